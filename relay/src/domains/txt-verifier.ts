/**
 * Custom-domain ownership by DNS TXT record (pktriot's model). To use example.com (and its
 * subdomains) an identity publishes
 *
 *     _portway.example.com.  TXT  "portway-verify=<value>"
 *
 * where <value> is derived from the identity and the domain, so a record proves one identity's
 * claim to one domain and cannot be reused for another. Only someone who controls the domain's DNS
 * can publish it. The record lives under `_portway.` rather than on the apex so it coexists with a
 * CNAME on the domain itself and with other TXT records.
 */
import { createHash } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { normalizeDomain } from './domain-name';

/** Label the TXT record is published under, in front of the domain. */
export const TXT_RECORD_LABEL = '_portway';
export const TXT_VALUE_PREFIX = 'portway-verify=';
export const DEFAULT_VERIFY_TIMEOUT_MS = 5_000;
/** Versioned, so the derivation can change without old records being read with new meaning. */
const DERIVATION_CONTEXT = 'portway domain verification v1';

export type DomainVerificationErrorCode = 'nxdomain' | 'no-record' | 'mismatch' | 'timeout' | 'dns-error';

export class DomainVerificationError extends Error {
  constructor(
    readonly code: DomainVerificationErrorCode,
    readonly recordName: string,
    message: string,
  ) {
    super(message);
    this.name = 'DomainVerificationError';
  }
}

/** `_portway.<domain>`: where the TXT record must be published. */
export function txtRecordName(domain: string): string {
  return `${TXT_RECORD_LABEL}.${normalizeDomain(domain)}`;
}

/**
 * The TXT value `identityId` must publish for `domain`: stable across restarts (no relay secret
 * involved; the record is public anyway, what it proves is control of the DNS).
 */
export function expectedTxtValue(identityId: string, domain: string): string {
  if (typeof identityId !== 'string' || identityId.length === 0) throw new TypeError('identityId must be non-empty text');
  const digest = createHash('sha256').update(`${DERIVATION_CONTEXT}\n${identityId}\n${normalizeDomain(domain)}`).digest('base64url');
  return TXT_VALUE_PREFIX + digest;
}

export interface VerifyDomainOptions {
  /** DNS server as `host` or `host:port` (`[::1]:53` for IPv6); the system's servers when absent. */
  resolver?: string;
  /** Whole lookup budget. */
  timeoutMs?: number;
}

/**
 * Resolves once `_portway.<domain>` has a TXT record equal to `expected` (records split into
 * several strings are joined, as DNS requires for values over 255 bytes). Rejects with a
 * DomainVerificationError that says what was wrong.
 */
export async function verifyDomainTxt(domain: string, expected: string, options: VerifyDomainOptions = {}): Promise<void> {
  const recordName = txtRecordName(domain);
  const timeoutMs = options.timeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (options.resolver !== undefined) {
    try {
      resolver.setServers([options.resolver]);
    } catch (err) {
      throw new DomainVerificationError('dns-error', recordName, `invalid DNS resolver "${options.resolver}": ${(err as Error).message}`);
    }
  }
  // c-ares's own timeout is per try and can grow with retries; this bounds the whole lookup.
  const deadline = setTimeout(() => resolver.cancel(), timeoutMs);
  let records: string[][];
  try {
    records = await resolver.resolveTxt(recordName);
  } catch (err) {
    throw lookupError(recordName, err as NodeJS.ErrnoException, timeoutMs);
  } finally {
    clearTimeout(deadline);
  }
  const values = records.map((chunks) => chunks.join(''));
  if (values.includes(expected)) return;
  if (values.length === 0) {
    throw new DomainVerificationError('no-record', recordName, `no TXT record at ${recordName}; publish "${expected}" there`);
  }
  const ours = values.filter((value) => value.startsWith(TXT_VALUE_PREFIX));
  const found = ours.length > 0 ? `found ${ours.slice(0, 3).map((v) => JSON.stringify(v.slice(0, 100))).join(', ')}` : `no ${TXT_VALUE_PREFIX} value among ${values.length} TXT record(s)`;
  throw new DomainVerificationError('mismatch', recordName, `TXT record at ${recordName} does not match: expected "${expected}", ${found}`);
}

function lookupError(recordName: string, err: NodeJS.ErrnoException, timeoutMs: number): DomainVerificationError {
  switch (err.code) {
    case 'ENOTFOUND':
      return new DomainVerificationError('nxdomain', recordName, `${recordName} does not exist (NXDOMAIN); publish the TXT record there`);
    case 'ENODATA':
      return new DomainVerificationError('no-record', recordName, `${recordName} has no TXT record`);
    case 'ETIMEOUT':
    case 'ECANCELLED':
      return new DomainVerificationError('timeout', recordName, `DNS lookup of ${recordName} timed out after ${timeoutMs} ms`);
    default:
      return new DomainVerificationError('dns-error', recordName, `DNS lookup of ${recordName} failed: ${err.code ?? err.message}`);
  }
}
