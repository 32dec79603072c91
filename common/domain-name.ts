/**
 * The one canonical form of a DNS name, for everything Portway stores, compares or routes by:
 * lower-case ASCII (IDNs in punycode), no trailing dot, LDH labels of 1-63 characters, at most 253
 * in all. Callers layer their own rules on top (two labels for a custom domain, no wildcard for
 * ACME: see the small functions below) and turn DomainNameError into their own user-facing error.
 */
import { domainToASCII } from 'node:url';

export class DomainNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DomainNameError';
  }
}

const MAX_DOMAIN_LENGTH = 253;
/** Letters, digits, inner hyphens (RFC 1123). */
const LDH_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** A TLS server name may also carry underscores (service labels like _acme): it only routes. */
const SERVER_NAME_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** Canonical form of a domain name; throws DomainNameError with the reason. */
export function canonicalDomain(input: string): string {
  return canonicalize(input, LDH_LABEL);
}

/** Canonical form of a TLS SNI name: as canonicalDomain, underscores allowed, ASCII only (RFC 6066 §3). */
export function canonicalServerName(input: string): string {
  if (!/^[\x21-\x7e]*$/.test(input)) throw new DomainNameError('a server name is ASCII');
  return canonicalize(input, SERVER_NAME_LABEL);
}

function canonicalize(input: string, label: RegExp): string {
  if (typeof input !== 'string') throw new DomainNameError('a domain must be text');
  const trimmed = input.trim();
  if (trimmed.length > MAX_DOMAIN_LENGTH + 1) throw new DomainNameError('domain name is longer than 253 characters');
  const shown = JSON.stringify(trimmed.slice(0, 80));
  const undotted = trimmed.endsWith('.') ? trimmed.slice(0, -1) : trimmed;
  // domainToASCII lower-cases and applies IDNA; it returns '' for what cannot be a domain.
  const ascii = /^[\x21-\x7e]*$/.test(undotted) ? undotted.toLowerCase() : domainToASCII(undotted);
  if (ascii.length === 0) throw new DomainNameError(`${shown} is not a domain name`);
  if (ascii.length > MAX_DOMAIN_LENGTH) throw new DomainNameError('domain name is longer than 253 characters');
  if (!ascii.split('.').every((part) => label.test(part))) {
    throw new DomainNameError(`${shown} is not a domain name: each label is 1-63 letters, digits or inner hyphens`);
  }
  return ascii;
}

/** A custom domain or a certificate's name needs a parent: `example.com`, not `localhost`. */
export function requireTwoLabels(name: string): string {
  if (!name.includes('.')) throw new DomainNameError(`${JSON.stringify(name)} needs at least two labels, like example.com`);
  return name;
}

/** No top-level domain is all digits: such a name is an IPv4 address. */
export function refuseIpAddress(name: string): string {
  if (/^\d+$/.test(name.slice(name.lastIndexOf('.') + 1))) throw new DomainNameError(`${JSON.stringify(name)} is an IP address, not a domain name`);
  return name;
}

/** `*.example.com`: a certificate can name it, but only a DNS-01 challenge can prove it. */
export function isWildcard(name: string): boolean {
  return name.trim().startsWith('*.');
}

/**
 * A name as a lookup key, without validation: case folded, surrounding space and a trailing dot
 * removed. For names that were validated elsewhere (route keys) or may hold a wildcard (SANs).
 */
export function domainLookupKey(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}
