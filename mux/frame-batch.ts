import { HEADER_SIZE, writeHeader, type FrameType } from '../protocol/frame';

const NO_PAYLOAD: Buffer = Buffer.alloc(0);

/**
 * The frames a session sends in one turn of the event loop, laid out as one message only when it
 * is sent: headers are kept as numbers and payloads by reference, so queueing a frame allocates
 * nothing, and sending the batch is one allocation and one copy of each payload (no buffer per
 * header, no Buffer.concat of a list). `take` can leave room in front of the message for the
 * transport's own header (a WebSocket frame header), so the transport need not write it apart.
 */
export class FrameBatch {
  // One entry per queued frame, in order; arrays are reused from batch to batch.
  private readonly types: number[] = [];
  private readonly flags: number[] = [];
  private readonly streamIds: number[] = [];
  private readonly lengths: number[] = [];
  private readonly payloads: Buffer[] = [];
  private count = 0;
  /** Bytes of the message the queued frames make (headers and payloads). */
  bytes = 0;

  /** Frames queued. */
  get frames(): number {
    return this.count;
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  /** Queues one frame; `payload` is referenced, not copied: it must not change until take(). */
  add(type: FrameType, flags: number, streamId: number, length: number, payload: Buffer | undefined): void {
    const i = this.count++;
    this.types[i] = type;
    this.flags[i] = flags;
    this.streamIds[i] = streamId;
    this.lengths[i] = length;
    this.payloads[i] = payload ?? NO_PAYLOAD;
    this.bytes += HEADER_SIZE + (payload ? payload.length : 0);
  }

  /**
   * The queued frames as one buffer of `headroom + bytes`, frames from offset `headroom` on (the
   * bytes before it are the caller's to fill); the batch is empty afterwards.
   */
  take(headroom: number): Buffer {
    const message = Buffer.allocUnsafe(headroom + this.bytes);
    let at = headroom;
    for (let i = 0; i < this.count; i++) {
      writeHeader(message, at, this.types[i], this.flags[i], this.streamIds[i], this.lengths[i]);
      at += HEADER_SIZE;
      const payload = this.payloads[i];
      if (payload.length > 0) {
        payload.copy(message, at);
        at += payload.length;
      }
      this.payloads[i] = NO_PAYLOAD; // sent: not kept alive by the batch
    }
    this.count = 0;
    this.bytes = 0;
    return message;
  }

  /** Drops what is queued (the session is cut off: nothing more goes out). */
  clear(): void {
    for (let i = 0; i < this.count; i++) this.payloads[i] = NO_PAYLOAD;
    this.count = 0;
    this.bytes = 0;
  }
}
