/**
 * Live byte counts of open connections, coalesced: every interval, one report listing only the
 * connections whose counts moved since the last report. The timer runs only while at least one
 * connection is tracked, and never keeps the process alive on its own.
 */
import type { ConnectionBytes } from '../../../protocol/rpc';

export const BYTE_REPORT_INTERVAL_MS = 1000;

/** What a connection's counts are read from; a MuxStream is one. */
export interface ByteCounters {
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** The timer functions the reporter uses; tests pass a clock they tick by hand. */
export interface IntervalTimer {
  setInterval(run: () => void, ms: number): { unref?(): unknown };
  clearInterval(handle: { unref?(): unknown }): void;
}

export interface ByteCountReporterOptions {
  /** Receives each coalesced report; never called with an empty list. */
  report(changed: ConnectionBytes[]): void;
  intervalMs?: number;
  timer?: IntervalTimer;
}

interface Tracked {
  counters: ByteCounters;
  lastIn: number;
  lastOut: number;
}

const realTimer: IntervalTimer = {
  setInterval: (run, ms) => setInterval(run, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export class ByteCountReporter {
  private readonly tracked = new Map<string, Tracked>();
  private handle: { unref?(): unknown } | undefined;
  private readonly intervalMs: number;
  private readonly timer: IntervalTimer;

  constructor(private readonly options: ByteCountReporterOptions) {
    this.intervalMs = options.intervalMs ?? BYTE_REPORT_INTERVAL_MS;
    this.timer = options.timer ?? realTimer;
  }

  /** Starts watching a connection; `counters` as already announced (e.g. in connection/didOpen) are the baseline. */
  track(id: string, counters: ByteCounters): void {
    this.tracked.set(id, { counters, lastIn: counters.bytesIn, lastOut: counters.bytesOut });
    if (!this.handle) {
      this.handle = this.timer.setInterval(() => this.flush(), this.intervalMs);
      this.handle.unref?.(); // an open connection must not keep a stopping agent alive
    }
  }

  /** Stops watching (the connection closed; its close carries the final counts). */
  untrack(id: string): void {
    this.tracked.delete(id);
    if (this.tracked.size === 0) this.stopTimer();
  }

  /** True while the timer runs, i.e. while a connection is tracked. */
  get running(): boolean {
    return this.handle !== undefined;
  }

  /** Reports the connections whose counts changed since their last report, in one call. */
  flush(): void {
    const changed: ConnectionBytes[] = [];
    for (const [id, t] of this.tracked) {
      const { bytesIn, bytesOut } = t.counters;
      if (bytesIn === t.lastIn && bytesOut === t.lastOut) continue;
      t.lastIn = bytesIn;
      t.lastOut = bytesOut;
      changed.push({ id, bytesIn, bytesOut });
    }
    if (changed.length > 0) this.options.report(changed);
  }

  dispose(): void {
    this.tracked.clear();
    this.stopTimer();
  }

  private stopTimer(): void {
    if (!this.handle) return;
    this.timer.clearInterval(this.handle);
    this.handle = undefined;
  }
}
