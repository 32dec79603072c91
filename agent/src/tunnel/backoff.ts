/**
 * When to try the relay again after losing it.
 *
 * - Right after a loss the relay is most likely restarting: probe at a short fixed interval for
 *   the first seconds (a drained or crashed relay is back in about that time).
 * - While it stays unreachable (connection refused, a proxy's 502), keep probing at most every
 *   `unreachableMaxMs`: a refused connection costs the relay host nothing, and agents must be back
 *   within about two seconds of the relay returning, however long it was away.
 * - When the relay answered "not now" (rate limited, 429/503), that is load: back off for real,
 *   up to `busyMaxMs`.
 *
 * Every delay is drawn at random from the upper half of its ceiling (the first one after a loss
 * from all of it), so the agents of one relay spread out instead of returning in one millisecond.
 */
export interface BackoffOptions {
  /** Interval of the probes right after a loss. */
  probeIntervalMs: number;
  /** How long after a loss the probes stay at `probeIntervalMs`. */
  probePhaseMs: number;
  /** Ceiling while the relay cannot be reached at all. */
  unreachableMaxMs: number;
  /** Ceiling while the relay refuses us for load. */
  busyMaxMs: number;
  /** A session that lived this long counts as healthy: its loss starts over from the probes. */
  stableSessionMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  probeIntervalMs: 500,
  probePhaseMs: 5_000,
  unreachableMaxMs: 1_500,
  busyMaxMs: 30_000,
  stableSessionMs: 10_000,
};

/** Why the last attempt failed: the relay was not there, or it was there and said "not now". */
export type FailureKind = 'unreachable' | 'busy';

/** How a session ended: a clean close (GoAway, drain) or one that lived a while resets the backoff. */
export interface SessionEnd {
  clean: boolean;
  livedMs: number;
}

export class Backoff {
  private readonly options: BackoffOptions;
  private attempt = 0;
  /** When the current outage began (time of the loss that reset the backoff). */
  private lostAt: number;
  private firstAfterLoss = true;

  constructor(
    options: Partial<BackoffOptions> = {},
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_BACKOFF, ...options };
    this.lostAt = this.now();
  }

  get stableSessionMs(): number {
    return this.options.stableSessionMs;
  }

  /**
   * A session ended. A clean or long-lived one starts over (probes again); one that died young
   * without a word keeps growing the delay, so a relay that accepts and drops at once is not hammered.
   */
  sessionEnded(end: SessionEnd): void {
    if (!end.clean && end.livedMs < this.options.stableSessionMs) return;
    this.attempt = 0;
    this.lostAt = this.now();
    this.firstAfterLoss = true;
  }

  /** The delay before the next attempt, after one that failed this way (or after a session ended). */
  next(kind: FailureKind = 'unreachable'): number {
    const { probeIntervalMs, probePhaseMs, unreachableMaxMs, busyMaxMs } = this.options;
    if (this.firstAfterLoss && kind === 'unreachable') {
      this.firstAfterLoss = false;
      return Math.round(this.random() * probeIntervalMs);
    }
    this.firstAfterLoss = false;
    if (kind === 'unreachable' && this.now() - this.lostAt < probePhaseMs) return this.jittered(probeIntervalMs);
    const ceiling = Math.min(kind === 'busy' ? busyMaxMs : unreachableMaxMs, probeIntervalMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return this.jittered(ceiling);
  }

  private jittered(ceiling: number): number {
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }
}
