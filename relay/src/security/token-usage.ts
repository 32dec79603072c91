/**
 * What each token used lately, for `portway-relay token ls`: visitor bytes and refusals (limits
 * reached) over the last hour, in one-minute buckets, so the memory per token is fixed.
 */
export const TOKENS_USAGE_PATH = '/tokens';

/** One token's live usage as the admin port's /tokens answers it. Never a secret. */
export interface TokenUsageInfo {
  id: string;
  tunnelsOnline: number;
  /** Visitor bytes (both ways) of streams that ended in the last hour. */
  bytesLastHour: number;
  /** Sessions refused for a limit of this token (tunnels, identities) in the last hour. */
  refusalsLastHour: number;
}

export interface TokenUsageResponse {
  tokens: TokenUsageInfo[];
}

const BUCKET_MS = 60_000;
const BUCKETS = 60;

/** A sum over the last hour: one slot per minute, each remembering which minute it holds. */
class HourlySum {
  private readonly minutes = new Float64Array(BUCKETS).fill(-1);
  private readonly sums = new Float64Array(BUCKETS);

  add(now: number, amount: number): void {
    const minute = Math.floor(now / BUCKET_MS);
    const slot = minute % BUCKETS;
    if (this.minutes[slot] !== minute) {
      this.minutes[slot] = minute;
      this.sums[slot] = 0;
    }
    this.sums[slot] += amount;
  }

  total(now: number): number {
    const oldest = Math.floor(now / BUCKET_MS) - BUCKETS + 1;
    let sum = 0;
    for (let slot = 0; slot < BUCKETS; slot++) if (this.minutes[slot] >= oldest) sum += this.sums[slot];
    return sum;
  }
}

export class TokenUsage {
  private readonly bytes = new Map<string, HourlySum>();
  private readonly refusals = new Map<string, HourlySum>();

  constructor(private readonly now: () => number = Date.now) {}

  addBytes(tokenId: string, bytes: number): void {
    if (bytes > 0) sumOf(this.bytes, tokenId).add(this.now(), bytes);
  }

  addRefusal(tokenId: string): void {
    sumOf(this.refusals, tokenId).add(this.now(), 1);
  }

  /** Usage of every token seen (or online); `online` counts each token's tunnels now. */
  report(online: Map<string, number>): TokenUsageInfo[] {
    const now = this.now();
    const ids = new Set([...this.bytes.keys(), ...this.refusals.keys(), ...online.keys()]);
    return [...ids].sort().map((id) => ({
      id,
      tunnelsOnline: online.get(id) ?? 0,
      bytesLastHour: this.bytes.get(id)?.total(now) ?? 0,
      refusalsLastHour: this.refusals.get(id)?.total(now) ?? 0,
    }));
  }

  /** Forgets a revoked token. */
  forget(tokenId: string): void {
    this.bytes.delete(tokenId);
    this.refusals.delete(tokenId);
  }
}

function sumOf(map: Map<string, HourlySum>, tokenId: string): HourlySum {
  let sum = map.get(tokenId);
  if (!sum) map.set(tokenId, (sum = new HourlySum()));
  return sum;
}
