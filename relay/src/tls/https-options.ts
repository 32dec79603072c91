/**
 * Settings of the relay's optional HTTPS port: where it listens and how the relay gets the
 * certificates for its own names (a given pair, or ACME). Parsed from the same flag map as the
 * other serve options.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LETS_ENCRYPT_DIRECTORY } from '../../../common/acme/acme-issuer';

/** Where the relay gets certificates for its own names with ACME (HTTP-01 on its HTTP port). */
export interface RelayAcmeOptions {
  directoryUrl: string;
  /** PEM file of a CA to trust for the directory's HTTPS (a private CA, pebble in tests). */
  caBundleFile?: string;
  /** Contact for the CA's expiry notices. */
  email?: string;
}

export interface HttpsOptions {
  /** Port of the HTTPS listener; undefined = no HTTPS listener (the default). */
  port?: number;
  /** Certificate (full chain) and key the relay terminates TLS with for its own names. */
  certFile?: string;
  keyFile?: string;
  /** --acme: certificates for the apex and the agents' hostnames; undefined = off. */
  acme?: RelayAcmeOptions;
}

export const HTTPS_VALUE_FLAGS = ['https-port', 'tls-cert', 'tls-key', 'acme', 'acme-directory', 'acme-ca-bundle', 'acme-email'] as const;
/** Flags that may stand alone (`--acme`); `--acme=0` works too. */
export const HTTPS_BOOLEAN_FLAGS = ['acme'] as const;

export const HTTPS_HELP = `  --https-port N      HTTPS listener, routed by the TLS SNI name        [HTTPS_PORT] (default: off)
  --tls-cert FILE     certificate (full chain, e.g. *.DOMAIN and DOMAIN) for the relay's own names [TLS_CERT]
  --tls-key FILE      its private key                                     [TLS_KEY]
  --acme              certificates for the relay's own names from ACME (HTTP-01)   [ACME=1]
  --acme-directory URL   ACME directory (default "letsencrypt": ${LETS_ENCRYPT_DIRECTORY})   [ACME_DIRECTORY]
  --acme-ca-bundle FILE  PEM CA to trust for the directory's HTTPS (a private CA)   [ACME_CA_BUNDLE]
  --acme-email ADDR   contact for the CA's expiry notices                 [ACME_EMAIL]

  TLS modes for the relay's own names (the apex, and tunnel hostnames whose routes do not do TLS
  themselves); pass-through routes never need either:
    - --tls-cert/--tls-key: the given pair (e.g. a wildcard *.DOMAIN + DOMAIN from your CA, or
      certbot with DNS-01). Read at start.
    - --acme: one certificate per name from the ACME directory (default Let's Encrypt), HTTP-01
      answered by the relay on its HTTP port (--port, 80 in production; the CA must reach it):
      the apex at start, each agent's hostname when its agent first comes online (HTTP-01
      cannot issue wildcards). Stored in DATA_DIR/certs (0600), renewed before expiry (30 days,
      or a third of a short lifetime) and swapped in without a restart. With --tls-cert as
      well, the pair wins for every name it covers; ACME gets the others.
    - neither: TLS for these names is refused (closed); pass-through still works.

  On the HTTPS port the relay reads only the ClientHello's server name (SNI), then:
    - a route whose TLS ends at the agent (route http add --letsencrypt, or --ca/--key) or at its
      destination (--tls PORT): the raw TLS bytes are passed through to the agent; the relay never
      sees plaintext and never holds that route's key. The route's firewall applies first.
    - the apex domain, and tunnel hostnames whose routes do not do TLS themselves: the relay
      terminates TLS with its certificate for that name (above) and serves them like the HTTP
      port (X-Forwarded-Proto: https). A name it has no certificate for yet is closed.
    - a missing or unknown server name: the connection is closed (never a default tunnel).
`;

type Env = Record<string, string | undefined>;

/** Reads the HTTPS settings; throws (via makeError) a message meant for the user. */
export function parseHttpsOptions(flags: Map<string, string>, env: Env, makeError: (message: string) => Error): HttpsOptions {
  const portText = flags.get('https-port') ?? env.HTTPS_PORT;
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 65535) throw makeError(`--https-port must be a whole number from 0 to 65535 (got "${portText}")`);
  }
  const certFile = flags.get('tls-cert') ?? (env.TLS_CERT || undefined);
  const keyFile = flags.get('tls-key') ?? (env.TLS_KEY || undefined);
  if ((certFile === undefined) !== (keyFile === undefined)) throw makeError('--tls-cert and --tls-key go together');
  if (certFile !== undefined && port === undefined) throw makeError('--tls-cert needs --https-port');
  for (const [flag, file] of [['tls-cert', certFile], ['tls-key', keyFile]] as const) {
    if (file !== undefined && !fs.existsSync(file)) throw makeError(`--${flag} ${file}: no such file`);
  }
  return { port, certFile, keyFile, acme: parseAcme(flags, env, port, makeError) };
}

function parseAcme(flags: Map<string, string>, env: Env, httpsPort: number | undefined, makeError: (message: string) => Error): RelayAcmeOptions | undefined {
  const switchText = flags.get('acme') ?? env.ACME ?? '';
  if (!/^(|1|0|true|false|yes|no|on|off)$/i.test(switchText)) throw makeError(`--acme takes no value, or 1/0 (got "${switchText}")`);
  const on = /^(1|true|yes|on)$/i.test(switchText);
  if (!on) {
    const stray = ['acme-directory', 'acme-ca-bundle', 'acme-email'].find((name) => flags.has(name));
    if (stray) throw makeError(`--${stray} needs --acme`);
    return undefined;
  }
  if (httpsPort === undefined) throw makeError('--acme needs --https-port (the certificates serve the HTTPS port)');
  const directoryText = flags.get('acme-directory') ?? (env.ACME_DIRECTORY || 'letsencrypt');
  let directoryUrl = LETS_ENCRYPT_DIRECTORY;
  if (directoryText !== 'letsencrypt') {
    let url: URL;
    try {
      url = new URL(directoryText);
    } catch {
      throw makeError(`--acme-directory ${directoryText} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw makeError('--acme-directory must be an https:// URL');
    directoryUrl = url.toString();
  }
  const bundle = flags.get('acme-ca-bundle') ?? (env.ACME_CA_BUNDLE || undefined);
  let caBundleFile: string | undefined;
  if (bundle !== undefined) {
    caBundleFile = path.resolve(bundle);
    let text: string;
    try {
      text = fs.readFileSync(caBundleFile, 'utf8');
    } catch (err) {
      throw makeError(`cannot read --acme-ca-bundle ${caBundleFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw makeError(`--acme-ca-bundle ${caBundleFile} holds no PEM certificate`);
  }
  const email = flags.get('acme-email') ?? (env.ACME_EMAIL || undefined);
  if (email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw makeError(`--acme-email ${email} is not an email address`);
  return { directoryUrl, caBundleFile, email };
}
