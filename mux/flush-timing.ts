import { performance } from 'node:perf_hooks';

/**
 * When a session sends its batch of frames. Under load, the frames of one turn of the event loop
 * go together at the end of the turn (setImmediate): many streams share one message and one
 * write. A lone request gains nothing from that wait, so while traffic is sparse the batch leaves
 * as soon as the callback that wrote it returns (a microtask: frames written by one callback, like
 * data and its FIN, still share a message).
 *
 * Sparse or busy is judged from what flushes carried: a flush with no idle wait of the event loop
 * since the previous one (two callbacks of one turn, or of turns back to back) means the loop is
 * busy (batch per turn from then on); a few per-turn flushes in a row that carried one frame each
 * mean the load went away (sparse again).
 *
 * The loop's idle time (libuv's own count of time spent waiting for events, read for ~30 ns) tells
 * whether it waited between two flushes; a setImmediate marking each turn's end cost a lone request
 * an Immediate and one more call from libuv into JavaScript per flush.
 */
const SINGLE_FRAME_FLUSHES_TO_GO_SPARSE = 4;

/** libuv's idle time of this thread's loop, in ms: it only grows while the loop waits for events. */
const nodeTiming = performance.nodeTiming;
const loopIdleTime = (): number => nodeTiming.idleTime;

/**
 * Sparse flushes are promise reactions: the same microtask queue as queueMicrotask, without the
 * AsyncResource, bound function and async-context switch Node wraps each queueMicrotask callback
 * in. A throw in the flush still ends the process (an unhandled rejection).
 */
const SETTLED = Promise.resolve();

export class FlushTiming {
  private sparse = true;
  /** The loop's idle time at the last flush in sparse mode (-1: none yet). */
  private idleAtLastFlush = -1;
  private singleFrameFlushes = 0;

  /** `idleTime`: the loop's idle time (tests pass their own). */
  constructor(
    private readonly flush: () => void,
    private readonly idleTime: () => number = loopIdleTime,
  ) {}

  /** A batch became non-empty: arrange its flush. */
  schedule(): void {
    if (this.sparse) void SETTLED.then(this.flush);
    else setImmediate(this.flush);
  }

  /** A scheduled flush sent `frames` frames. */
  flushed(frames: number): void {
    if (this.sparse) {
      const idle = this.idleTime();
      // The loop never waited since the last flush: other callbacks are sending too, batch per turn.
      if (idle === this.idleAtLastFlush) this.goBusy();
      else this.idleAtLastFlush = idle;
      return;
    }
    this.singleFrameFlushes = frames === 1 ? this.singleFrameFlushes + 1 : 0;
    if (this.singleFrameFlushes >= SINGLE_FRAME_FLUSHES_TO_GO_SPARSE) {
      this.sparse = true;
      this.singleFrameFlushes = 0;
    }
  }

  private goBusy(): void {
    this.sparse = false;
    this.idleAtLastFlush = -1; // back in sparse mode, the first flush starts afresh
  }
}
