/**
 * Custom-domain control requests (agent → relay, over a control-mode session). Every request acts
 * on the identity of the session that sends it; no request names an identity.
 * Declared once here; the relay validates params with the parsers below (they came from the network).
 */

export const DomainMethod = {
  /** Params DomainParams → DomainChallenge: the TXT record that proves the domain. */
  Challenge: 'domain/challenge',
  /** Params DomainParams → VerifiedDomain: the relay looks the record up and binds the domain. */
  Verify: 'domain/verify',
  /** No params → { domains: VerifiedDomain[] } of this identity. */
  List: 'domain/list',
  /** Params DomainParams → VerifiedDomain (the binding removed). */
  Remove: 'domain/remove',
} as const;

/** Error codes a domain request may answer with (ControlResponse.error.code). */
export type DomainErrorCode =
  | 'invalid-domain'
  | 'taken' // verified by another identity
  | 'reserved' // the relay's own names
  | 'not-found'
  | 'not-owner'
  | 'nxdomain'
  | 'no-record'
  | 'mismatch'
  | 'timeout'
  | 'dns-error'
  | 'rate-limited'; // too many verification lookups for this token (or identity); the message says when to retry

export interface DomainParams {
  domain: string;
}

export interface DomainChallenge {
  domain: string;
  /** Where to publish it, e.g. `_portway.example.com`. */
  recordName: string;
  recordType: 'TXT';
  /** The exact value, e.g. `portway-verify=…`. */
  recordValue: string;
}

export interface VerifiedDomain {
  domain: string;
  /** ISO 8601. */
  verifiedAt: string;
}

export interface DomainList {
  domains: VerifiedDomain[];
}

/** Validates the params of Challenge, Verify and Remove; throws with a message for the agent. */
export function parseDomainParams(params: unknown): DomainParams {
  const p = params as Record<string, unknown> | null;
  if (typeof p !== 'object' || p === null || typeof p.domain !== 'string' || p.domain.length === 0 || p.domain.length > 254) {
    throw new TypeError('params must be {domain: "example.com"}');
  }
  return { domain: p.domain };
}

function isVerifiedDomain(value: unknown): value is VerifiedDomain {
  const v = value as Record<string, unknown> | null;
  return typeof v === 'object' && v !== null && typeof v.domain === 'string' && typeof v.verifiedAt === 'string';
}

/** Validates the relay's answers on the agent side. */
export const parseDomainAnswer = {
  challenge(value: unknown): DomainChallenge {
    const v = value as Record<string, unknown> | null;
    if (typeof v !== 'object' || v === null || typeof v.domain !== 'string' || typeof v.recordName !== 'string' || typeof v.recordValue !== 'string') {
      throw new TypeError('malformed domain challenge from the relay');
    }
    return { domain: v.domain, recordName: v.recordName, recordType: 'TXT', recordValue: v.recordValue };
  },
  verified(value: unknown): VerifiedDomain {
    if (!isVerifiedDomain(value)) throw new TypeError('malformed domain answer from the relay');
    return { domain: value.domain, verifiedAt: value.verifiedAt };
  },
  list(value: unknown): DomainList {
    const v = value as Record<string, unknown> | null;
    if (typeof v !== 'object' || v === null || !Array.isArray(v.domains) || !v.domains.every(isVerifiedDomain)) {
      throw new TypeError('malformed domain list from the relay');
    }
    return { domains: (v.domains as VerifiedDomain[]).map((d) => ({ domain: d.domain, verifiedAt: d.verifiedAt })) };
  },
};
