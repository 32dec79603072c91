/**
 * The one check every ACME domain goes through: it names a certificate (so it must be something
 * a CA can validate over HTTP-01) and a directory on disk (so it must not be able to escape it).
 */

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})+$`);

/** Lower-cased, trailing dot stripped; throws a user-facing error for anything else. */
export function normalizeAcmeDomain(domain: string): string {
  const name = domain.trim().toLowerCase().replace(/\.$/, '');
  if (name.startsWith('*.')) {
    throw new Error(`cannot obtain a certificate for ${domain}: wildcard names need a DNS-01 challenge; only HTTP-01 is supported`);
  }
  if (!HOSTNAME.test(name) || /^[\d.]+$/.test(name)) {
    throw new Error(`cannot obtain a certificate for ${JSON.stringify(domain)}: not a fully qualified domain name`);
  }
  return name;
}
