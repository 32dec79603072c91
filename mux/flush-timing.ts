/**
 * When a session sends its batch of frames. Under load, the frames of one turn of the event loop
 * go together at the end of the turn (setImmediate): many streams share one message and one
 * write. A lone request gains nothing from that wait, so while traffic is sparse the batch leaves
 * as soon as the callback that wrote it returns (a microtask: frames written by one callback, like
 * data and its FIN, still share a message).
 *
 * Sparse or busy is judged from what flushes carried: a second flush within one turn means
 * several callbacks are sending in the same turn (busy: batch per turn from then on); a few
 * per-turn flushes in a row that carried one frame each mean the load went away (sparse again).
 */
const SINGLE_FRAME_FLUSHES_TO_GO_SPARSE = 4;

export class FlushTiming {
  private sparse = true;
  /** Flushes since the current turn's end marker was set (sparse mode only). */
  private flushesThisTurn = 0;
  private singleFrameFlushes = 0;

  constructor(private readonly flush: () => void) {}

  /** A batch became non-empty: arrange its flush. */
  schedule(): void {
    if (this.sparse) queueMicrotask(this.flush);
    else setImmediate(this.flush);
  }

  /** A scheduled flush sent `frames` frames. */
  flushed(frames: number): void {
    if (this.sparse) {
      if (this.flushesThisTurn++ === 0) setImmediate(this.turnEnded);
      else this.sparse = false; // another callback of this turn sends too: batch per turn
      return;
    }
    this.singleFrameFlushes = frames === 1 ? this.singleFrameFlushes + 1 : 0;
    if (this.singleFrameFlushes >= SINGLE_FRAME_FLUSHES_TO_GO_SPARSE) {
      this.sparse = true;
      this.singleFrameFlushes = 0;
    }
  }

  private readonly turnEnded = (): void => {
    this.flushesThisTurn = 0;
  };
}
