import * as path from 'node:path';
import type { HttpRouteConfig } from '../config/schema';
import { certificateCoversDomain, loadCertificatePair } from '../tls/cert-pair';
import { normalizeAcmeDomain } from '../../../common/acme/domain-name';
import { UsageError } from '../config/usage-error';
import type { FlagSpec, ParsedFlags } from './args';

/** The TLS flags of `route http add`. */
export const ROUTE_TLS_FLAGS: FlagSpec[] = [
  { name: 'letsencrypt', type: 'boolean', description: 'terminate TLS at the agent with a certificate from the ACME directory (configure --acme-directory; default Let\'s Encrypt)' },
  { name: 'ca', type: 'string', placeholder: 'FULLCHAIN', description: 'terminate TLS at the agent with this certificate chain (PEM, server certificate first)' },
  { name: 'key', type: 'string', placeholder: 'KEY', description: 'the private key of --ca (PEM, unencrypted)' },
  { name: 'redirect', type: 'boolean', description: 'answer plain-HTTP requests with 308 to https:// (ACME challenges are still answered)' },
];

type TlsSettings = Pick<HttpRouteConfig, 'letsencrypt' | 'ca' | 'key' | 'redirect'>;

/**
 * Checks the TLS flags against the rest of the route and returns its TLS settings. A custom
 * pair is validated now (readable, matching, valid, naming the domain), so a mistake is an
 * error here and not a failed handshake later.
 */
export function routeTlsSettings(flags: ParsedFlags, domain: string): TlsSettings {
  const letsencrypt = flags.letsencrypt === true;
  const ca = flags.ca as string | undefined;
  const key = flags.key as string | undefined;
  if ((ca === undefined) !== (key === undefined)) throw new UsageError('--ca FULLCHAIN and --key KEY go together');
  const atAgent = letsencrypt || ca !== undefined;
  if (letsencrypt && ca) throw new UsageError('use either --letsencrypt or --ca/--key, not both');
  if (atAgent && flags.tls !== undefined) {
    throw new UsageError('--tls PORT passes TLS through to the destination, --letsencrypt and --ca/--key terminate it at the agent: pick one');
  }
  if (atAgent && flags.http === undefined && flags.webroot === undefined) {
    throw new UsageError('TLS at the agent needs something to serve: --destination IP --http PORT, or --webroot DIR');
  }
  if (letsencrypt) {
    try {
      normalizeAcmeDomain(domain);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const settings: TlsSettings = {};
  if (letsencrypt) settings.letsencrypt = true;
  if (ca !== undefined && key !== undefined) {
    const caPath = path.resolve(ca);
    const keyPath = path.resolve(key);
    let names: string[];
    try {
      names = loadCertificatePair(caPath, keyPath).subjectAltNames;
    } catch (err) {
      throw new UsageError(`--ca/--key refused: ${(err as Error).message}`);
    }
    if (!certificateCoversDomain(names, domain)) {
      throw new UsageError(`--ca/--key refused: the certificate in ${caPath} is for ${names.join(', ') || 'no DNS name'}, not ${domain}`);
    }
    settings.ca = caPath;
    settings.key = keyPath;
  }
  if (flags.redirect === true) settings.redirect = true;
  return settings;
}
