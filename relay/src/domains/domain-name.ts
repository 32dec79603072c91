/**
 * Custom domain names as the relay stores and compares them: lower-case ASCII (IDNs in punycode),
 * no trailing dot, LDH labels. One canonical form, so `Example.COM.` and `example.com` can never
 * be bound to two identities.
 */
import { domainToASCII } from 'node:url';

export class DomainNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DomainNameError';
  }
}

const MAX_DOMAIN_LENGTH = 253;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Canonical form of a custom domain; throws DomainNameError with the reason. */
export function normalizeDomain(input: string): string {
  if (typeof input !== 'string') throw new DomainNameError('a domain must be text');
  if (input.length > MAX_DOMAIN_LENGTH + 1) throw new DomainNameError('domain name is longer than 253 characters');
  const shown = JSON.stringify(input.slice(0, 80));
  const trimmed = input.endsWith('.') ? input.slice(0, -1) : input;
  // domainToASCII lower-cases and applies IDNA; it returns '' for what cannot be a domain.
  const ascii = /^[\x21-\x7e]*$/.test(trimmed) ? trimmed.toLowerCase() : domainToASCII(trimmed);
  if (ascii.length === 0) throw new DomainNameError(`${shown} is not a domain name`);
  if (ascii.length > MAX_DOMAIN_LENGTH) throw new DomainNameError('domain name is longer than 253 characters');
  const labels = ascii.split('.');
  if (labels.length < 2) throw new DomainNameError(`${shown} needs at least two labels, like example.com`);
  for (const label of labels) {
    if (!LABEL.test(label)) {
      throw new DomainNameError(`${shown} is not a domain name: each label is 1-63 letters, digits or inner hyphens`);
    }
  }
  if (/^\d+$/.test(labels[labels.length - 1])) throw new DomainNameError(`${shown} is an IP address, not a domain name`);
  return ascii;
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

/** Host as a request names it (any case, maybe a trailing dot), for lookups; no validation. */
export function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}
