import { Duplex } from 'node:stream';
import { Flag, FrameType, HEADER_SIZE, INITIAL_WINDOW, MAX_FRAME_PAYLOAD, MAX_WINDOW, writeHeader } from '../protocol/frame';
import { keepView, lendView, type PayloadLease } from './payload-lease';

/** What a stream needs from its session; kept narrow so the stream is testable alone. */
export interface StreamOwner {
  sendFrame(type: FrameType, flags: number, streamId: number, length: number, payload?: Buffer): void;
  /** Sends one frame already laid out as header and payload in a single buffer. */
  sendFramed(frame: Buffer, written?: (err?: Error) => void): void;
  protocolError(reason: string): void;
  forget(streamId: number): void;
}

/** What a stream buffers on each side before its Writable or Readable pushes back. */
export const STREAM_BUFFER_BYTES = 256 * 1024;

export class StreamResetError extends Error {
  readonly code = 'ERR_STREAM_RESET';
  constructor(message = 'stream reset by peer') {
    super(message);
  }
}

/**
 * One multiplexed stream: a Duplex whose writes spend the peer's credit and whose
 * reads return credit as the consumer drains them. Never holds more than one window
 * of unread peer data: the peer is cut off if it sends beyond the credit given.
 */
export class MuxStream extends Duplex {
  /** Credit the peer granted us (bytes we may still send). */
  private sendWindow = INITIAL_WINDOW;
  /** Credit we granted the peer and it has not used yet. */
  private recvWindow = INITIAL_WINDOW;
  /** Flag for the first frame we send: SYN when we opened it, ACK when the peer did. */
  private openFlag: number;
  private pending: { chunk: Buffer; offset: number; callback: (err?: Error | null) => void } | null = null;
  private localFinSent = false;
  private remoteFinReceived = false;
  private resetDone = false;
  /** Someone waiting for the send window to reach `bytes` (see whenCredit). */
  private creditWaiter: { bytes: number; callback: () => void } | undefined;
  /** Bytes sent and received, for connection views and metrics. */
  bytesIn = 0;
  bytesOut = 0;
  /**
   * Set by a consumer that gives every 'data' chunk back (ViewReturn) once it is done with its
   * bytes: pooled payload views then go back to their pool. Otherwise they are kept for good.
   */
  returnsViews = false;

  constructor(
    readonly id: number,
    private readonly owner: StreamOwner,
    openedLocally: boolean,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: STREAM_BUFFER_BYTES, writableHighWaterMark: STREAM_BUFFER_BYTES });
    this.openFlag = openedLocally ? Flag.SYN : Flag.ACK;
  }

  private takeOpenFlag(): number {
    const flag = this.openFlag;
    this.openFlag = 0;
    return flag;
  }

  // --- frames from the peer (called by the session) ---

  /** `lease`: the payload is a view into a pooled buffer (see payload-lease.ts). */
  onData(flags: number, payload: Buffer, lease?: PayloadLease): void {
    if (this.remoteFinReceived) return this.owner.protocolError(`data after FIN on stream ${this.id}`);
    if (payload.length > this.recvWindow) {
      return this.owner.protocolError(`stream ${this.id} exceeded its window (${payload.length} > ${this.recvWindow})`);
    }
    this.recvWindow -= payload.length;
    this.bytesIn += payload.length;
    if (payload.length > 0) {
      if (lease) {
        if (this.returnsViews) lendView(payload, lease);
        else keepView(lease); // pipes and sockets keep chunks as long as they like
      }
      this.push(payload);
    }
    if (flags & Flag.FIN) this.onRemoteFin();
    if (flags & Flag.RST) this.onRemoteReset();
  }

  onWindowUpdate(flags: number, delta: number): void {
    if (delta > 0) {
      if (this.sendWindow + delta > MAX_WINDOW) {
        return this.owner.protocolError(`stream ${this.id} window grew past ${MAX_WINDOW}`);
      }
      this.sendWindow += delta;
      this.drainPending();
      this.wakeCreditWaiter();
    }
    if (flags & Flag.FIN) this.onRemoteFin();
    if (flags & Flag.RST) this.onRemoteReset();
  }

  private onRemoteFin(): void {
    if (this.remoteFinReceived) return;
    this.remoteFinReceived = true;
    this.push(null);
  }

  private onRemoteReset(): void {
    this.resetDone = true; // nothing more to tell the peer
    this.owner.forget(this.id);
    this.destroy(new StreamResetError());
  }

  /** The session ended under this stream. */
  abort(reason: string): void {
    this.resetDone = true;
    this.destroy(new StreamResetError(reason));
  }

  // --- Duplex implementation ---

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.pending = { chunk, offset: 0, callback };
    this.drainPending();
  }

  private drainPending(): void {
    const pending = this.pending;
    if (!pending) return;
    const { chunk } = pending;
    while (pending.offset < chunk.length && this.sendWindow > 0) {
      const size = Math.min(chunk.length - pending.offset, this.sendWindow, MAX_FRAME_PAYLOAD);
      const piece = chunk.subarray(pending.offset, pending.offset + size);
      this.owner.sendFrame(FrameType.Data, this.takeOpenFlag(), this.id, size, piece);
      this.sendWindow -= size;
      this.bytesOut += size;
      pending.offset += size;
    }
    if (pending.offset >= chunk.length) {
      this.pending = null;
      pending.callback();
    }
  }

  // --- direct sending, for sources that read straight into frames (see framed-reader.ts) ---

  /** The peer's remaining credit for this stream. */
  get sendCredit(): number {
    return this.sendWindow;
  }

  /** Bytes that may go out through sendFramed now: the window, or 0 while the Writable side holds data. */
  get directCredit(): number {
    if (this.pending || this.writableLength > 0 || this.writableEnded || this.destroyed) return 0;
    return this.sendWindow;
  }

  /**
   * Sends `length` bytes that already sit at frame[HEADER_SIZE…]; the header is written in
   * front of them, so the payload goes out without being copied. length ≤ directCredit.
   */
  sendFramed(frame: Buffer, length: number, written?: (err?: Error) => void): void {
    if (length > this.directCredit || length > MAX_FRAME_PAYLOAD) throw new RangeError(`sendFramed: ${length} bytes exceed the credit`);
    writeHeader(frame, 0, FrameType.Data, this.takeOpenFlag(), this.id, length);
    this.sendWindow -= length;
    this.bytesOut += length;
    this.owner.sendFramed(frame.subarray(0, HEADER_SIZE + length), written);
  }

  /**
   * Sends `bytes` as one Data frame into the session's batch at once, skipping the Writable's
   * queue (and its per-write bookkeeping), when nothing is queued before them and the credit
   * covers them; otherwise writes them as write() would. The caller must not change `bytes`
   * afterwards. Returns what write() would: false when the caller should wait for 'drain'.
   */
  sendNow(bytes: Buffer): boolean {
    if (bytes.length === 0 || bytes.length > this.directCredit || bytes.length > MAX_FRAME_PAYLOAD) return this.write(bytes);
    this.owner.sendFrame(FrameType.Data, this.takeOpenFlag(), this.id, bytes.length, bytes);
    this.sendWindow -= bytes.length;
    this.bytesOut += bytes.length;
    return true;
  }

  /** Calls back once the send window holds at least `bytes` (at once if it already does). */
  whenCredit(bytes: number, callback: () => void): void {
    this.creditWaiter = { bytes: Math.min(bytes, INITIAL_WINDOW), callback };
    this.wakeCreditWaiter();
  }

  private wakeCreditWaiter(): void {
    const waiter = this.creditWaiter;
    if (!waiter || this.sendWindow < waiter.bytes || this.destroyed) return;
    this.creditWaiter = undefined;
    waiter.callback();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.localFinSent = true;
    this.owner.sendFrame(FrameType.WindowUpdate, this.takeOpenFlag() | Flag.FIN, this.id, 0);
    callback();
  }

  override _read(): void {
    // Credit back what the consumer has taken out of the buffer, once it is worth a frame.
    // A quarter window, not half: a sender reading 256 KiB at a time (framed-reader.ts) then
    // always has credit for its next read while the previous ones are in flight.
    const consumed = INITIAL_WINDOW - this.recvWindow - this.readableLength;
    if (consumed >= INITIAL_WINDOW / 4 || (consumed > 0 && this.readableLength === 0 && consumed >= 16 * 1024)) {
      this.recvWindow += consumed;
      this.owner.sendFrame(FrameType.WindowUpdate, this.takeOpenFlag(), this.id, consumed);
    }
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    const cleanlyClosed = this.localFinSent && this.remoteFinReceived;
    if (!this.resetDone && !cleanlyClosed) {
      this.resetDone = true;
      this.owner.sendFrame(FrameType.WindowUpdate, this.takeOpenFlag() | Flag.RST, this.id, 0);
    }
    if (this.pending) {
      const { callback: writeCallback } = this.pending;
      this.pending = null;
      writeCallback(err ?? new StreamResetError('stream closed'));
    }
    this.creditWaiter = undefined;
    this.owner.forget(this.id);
    callback(err);
  }
}
