import * as tls from 'node:tls';
import type { AgentConfig } from '../config/schema';
import { loadCertificatePair } from './cert-pair';
import type { StoredCertificate } from '../../../common/acme/cert-store';

/**
 * The SecureContext of every route whose TLS ends at the agent, by domain: the custom pair
 * (--ca/--key, re-read at every config change) or the stored ACME certificate. A new handshake
 * always takes the current context, so a renewal applies without dropping open connections.
 */
export class RouteSecureContexts {
  private contexts = new Map<string, tls.SecureContext>();

  rebuild(config: AgentConfig, acmeCertificate: (domain: string) => StoredCertificate | undefined, log: (line: string) => void): void {
    const next = new Map<string, tls.SecureContext>();
    for (const route of config.http) {
      const domain = route.domain.toLowerCase();
      try {
        if (route.letsencrypt) {
          const stored = acmeCertificate(domain);
          if (stored) next.set(domain, tls.createSecureContext({ cert: stored.certPem, key: stored.keyPem }));
        } else if (route.ca && route.key) {
          const pair = loadCertificatePair(route.ca, route.key);
          next.set(domain, tls.createSecureContext({ cert: pair.cert, key: pair.key }));
        }
      } catch (err) {
        log(`portway: TLS for ${domain} is off: ${(err as Error).message}`);
      }
    }
    this.contexts = next;
  }

  set(domain: string, certificate: StoredCertificate): void {
    this.contexts.set(domain.toLowerCase(), tls.createSecureContext({ cert: certificate.certPem, key: certificate.keyPem }));
  }

  get(domain: string): tls.SecureContext | undefined {
    return this.contexts.get(domain);
  }
}
