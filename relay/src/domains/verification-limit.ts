/**
 * How often agents may make the relay look up a custom domain's TXT record. Each `domain verify`
 * (and `domain add`) costs the relay a DNS query; without a budget one agent could make it hammer
 * DNS. The budget is per token, so a token holder cannot dodge it by minting fresh agent
 * identities; sessions without a token (AUTH_KEY, open relay) are budgeted per identity, since
 * everyone shares that one credential and one agent must not use up the others' lookups.
 */
import { ControlRequestError } from '../../../mux/control-channel';
import { RateLimiter, type RateLimiterOptions } from '../security/rate-limiter';

/** Who a lookup is charged to: what the relay knows about the asking session. */
export interface VerificationRequester {
  tokenId?: string;
  identityId: string;
}

export interface VerificationLimitOptions {
  /** Lookups allowed back to back. */
  burst: number;
  /** After the burst, one lookup per this many milliseconds. */
  intervalMs: number;
  /** Injectable monotonic clock (ms), for tests. */
  now?: RateLimiterOptions['now'];
}

export class VerificationLimit {
  private readonly lookups: RateLimiter;

  constructor(options: VerificationLimitOptions) {
    this.lookups = new RateLimiter({ capacity: options.burst, refillPerSecond: 1000 / options.intervalMs, now: options.now });
  }

  /** Spends one lookup of the requester's budget, or throws a coded `rate-limited` error saying when to retry. */
  spend(requester: VerificationRequester): void {
    const decision = this.lookups.take(budgetKey(requester));
    if (decision.allowed) return;
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    throw new ControlRequestError('rate-limited', `too many verification attempts; retry in ${seconds} s`);
  }
}

/** Token ids and identity ids never collide: the prefixes keep the two key spaces apart. */
export function budgetKey(requester: VerificationRequester): string {
  return requester.tokenId !== undefined ? `token:${requester.tokenId}` : `identity:${requester.identityId}`;
}
