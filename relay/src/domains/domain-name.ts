/**
 * Custom domain names as the relay stores and compares them: the canonical form of
 * common/domain-name.ts (so `Example.COM.` and `example.com` can never be bound to two
 * identities), with at least two labels and no IP address.
 */
import { canonicalDomain, refuseIpAddress, requireTwoLabels } from '../../../common/domain-name';

export { DomainNameError } from '../../../common/domain-name';

/** Canonical form of a custom domain; throws DomainNameError with the reason. */
export function normalizeDomain(input: string): string {
  return refuseIpAddress(requireTwoLabels(canonicalDomain(input)));
}

/** `host` itself and each parent domain, most specific first: a.b.example.com, b.example.com, example.com, com. */
export function domainAndParents(host: string): string[] {
  const result: string[] = [];
  let rest = host;
  for (;;) {
    result.push(rest);
    const dot = rest.indexOf('.');
    if (dot < 0) return result;
    rest = rest.slice(dot + 1);
  }
}
