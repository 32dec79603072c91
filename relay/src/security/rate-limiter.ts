/**
 * Token buckets keyed by client, for throttling failed authentication (brute-forcing tokens) and
 * similar per-client budgets. Memory is bounded: beyond `maxKeys` clients the least recently seen
 * bucket is forgotten. The clock is injectable so tests step time instead of sleeping.
 *
 * Typical use for logins: refuse early when `check(key)` says no; on a failed attempt, `take(key)`.
 * Successful logins cost nothing, so a user who mistypes once is not locked out.
 */
import ipaddr from 'ipaddr.js';
import { parseAddress } from '../../../common/net/client-address';

export interface RateLimiterOptions {
  /** Largest burst: attempts allowed back to back from a full bucket. */
  capacity: number;
  /** Steady rate at which the bucket refills. */
  refillPerSecond: number;
  /** Buckets kept at most (default 10,000); the least recently used is evicted beyond it. */
  maxKeys?: number;
  /** Milliseconds from a monotonic clock (default performance.now). */
  now?: () => number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** When refused: how long until the request would be allowed (0 when allowed). */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export const DEFAULT_MAX_KEYS = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly refillPerMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: RateLimiterOptions) {
    const { capacity, refillPerSecond, maxKeys = DEFAULT_MAX_KEYS } = options;
    if (!(Number.isFinite(capacity) && capacity > 0)) throw new RangeError('capacity must be a positive number');
    if (!(Number.isFinite(refillPerSecond) && refillPerSecond > 0)) throw new RangeError('refillPerSecond must be a positive number');
    if (!(Number.isSafeInteger(maxKeys) && maxKeys > 0)) throw new RangeError('maxKeys must be a positive whole number');
    this.capacity = capacity;
    this.refillPerMs = refillPerSecond / 1000;
    this.maxKeys = maxKeys;
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether `cost` tokens are available for `key`, without taking them or remembering the key. */
  check(key: string, cost = 1): RateLimitDecision {
    const bucket = this.buckets.get(key);
    const tokens = bucket ? this.refilled(bucket, this.now()) : this.capacity;
    return this.decide(tokens, cost);
  }

  /** Takes `cost` tokens from `key`'s bucket if it holds that many; a refused take takes nothing. */
  take(key: string, cost = 1): RateLimitDecision {
    const now = this.now();
    const existing = this.buckets.get(key);
    const tokens = existing ? this.refilled(existing, now) : this.capacity;
    const decision = this.decide(tokens, cost);
    const bucket: Bucket = { tokens: decision.allowed ? tokens - cost : tokens, updatedAt: now };
    // Re-inserting moves the key to the young end of the Map's insertion order.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    return decision;
  }

  /** Forgets `key` (its bucket is full again). */
  reset(key: string): void {
    this.buckets.delete(key);
  }

  /** Buckets currently held. */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: Bucket, now: number): number {
    // A clock that steps back (an injected one) refills nothing rather than draining.
    const elapsed = Math.max(0, now - bucket.updatedAt);
    return Math.min(this.capacity, bucket.tokens + elapsed * this.refillPerMs);
  }

  private decide(tokens: number, cost: number): RateLimitDecision {
    if (!(Number.isFinite(cost) && cost > 0 && cost <= this.capacity)) {
      throw new RangeError(`cost must be a positive number no larger than the capacity (${this.capacity})`);
    }
    if (tokens >= cost) return { allowed: true, retryAfterMs: 0 };
    return { allowed: false, retryAfterMs: Math.ceil((cost - tokens) / this.refillPerMs) };
  }
}

/**
 * The key to limit a client address by: the address itself for IPv4, its /64 for IPv6, since one
 * IPv6 host usually holds a whole /64 and could otherwise rotate through fresh buckets (and, by
 * filling the map, evict everyone else's). Text that is not an address is its own key.
 */
export function rateLimitKey(address: string): string {
  const parsed = parseAddress(address);
  if (!parsed) return address;
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const bytes = parsed.toByteArray().slice(0, 8).concat([0, 0, 0, 0, 0, 0, 0, 0]);
  return `${(ipaddr.fromByteArray(bytes) as ipaddr.IPv6).toRFC5952String()}/64`;
}
