/**
 * Settings of the relay's optional HTTPS port: where it listens and the certificate the relay
 * uses for its own names. Parsed from the same flag map as the other serve options.
 */
import * as fs from 'node:fs';

export interface HttpsOptions {
  /** Port of the HTTPS listener; undefined = no HTTPS listener (the default). */
  port?: number;
  /** Certificate (full chain) and key the relay terminates TLS with for its own names. */
  certFile?: string;
  keyFile?: string;
}

export const HTTPS_VALUE_FLAGS = ['https-port', 'tls-cert', 'tls-key'] as const;

export const HTTPS_HELP = `  --https-port N      HTTPS listener, routed by the TLS SNI name        [HTTPS_PORT] (default: off)
  --tls-cert FILE     certificate (full chain, e.g. *.DOMAIN and DOMAIN) for the relay's own names [TLS_CERT]
  --tls-key FILE      its private key                                     [TLS_KEY]

  On the HTTPS port the relay reads only the ClientHello's server name (SNI), then:
    - a route whose TLS ends at the agent (route http add --letsencrypt, or --ca/--key) or at its
      destination (--tls PORT): the raw TLS bytes are passed through to the agent; the relay never
      sees plaintext and never holds that route's key. The route's firewall applies first.
    - the apex domain, and tunnel hostnames whose routes do not do TLS themselves: the relay
      terminates TLS with --tls-cert/--tls-key and serves them like the HTTP port
      (X-Forwarded-Proto: https). Without --tls-cert these connections are closed.
    - a missing or unknown server name: the connection is closed (never a default tunnel).
  The relay does not obtain certificates for its own names with ACME; give it a pair (e.g. a
  wildcard certificate from your CA or certbot with DNS-01).
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
  return { port, certFile, keyFile };
}
