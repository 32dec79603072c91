/**
 * The one check every ACME domain goes through: it names a certificate (so it must be something
 * a CA can validate over HTTP-01) and a directory on disk (so it must not be able to escape it).
 * The canonical form is common/domain-name.ts's; ACME adds its own rules on top.
 */
import { canonicalDomain, DomainNameError, isWildcard, refuseIpAddress, requireTwoLabels } from '../domain-name';

/** Lower-cased, trailing dot stripped, IDNs in punycode; throws a user-facing error for anything else. */
export function normalizeAcmeDomain(domain: string): string {
  if (isWildcard(domain)) {
    throw new Error(`cannot obtain a certificate for ${domain}: wildcard names need a DNS-01 challenge; only HTTP-01 is supported`);
  }
  try {
    return refuseIpAddress(requireTwoLabels(canonicalDomain(domain)));
  } catch (err) {
    if (!(err instanceof DomainNameError)) throw err;
    throw new Error(`cannot obtain a certificate for ${JSON.stringify(domain)}: not a fully qualified domain name`);
  }
}
