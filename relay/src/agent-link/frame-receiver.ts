import { isUtf8 } from 'node:buffer';
import type { PayloadLease } from '../../../mux/payload-lease';
import { type PooledBuffer, type ReceivePool } from './receive-pool';
import { unmaskInPlace } from './unmask';

/** What the receiver reports, in order of arrival. */
export interface ReceiverSink {
  /** A whole message; `lease` set: `data` is a view into a pooled buffer (retain it to keep a view). */
  message(data: Buffer, isBinary: boolean, lease: PayloadLease | undefined): void;
  ping(data: Buffer): void;
  /** A close frame: nothing after it is read. */
  close(code: number, reason: Buffer): void;
  /** Bad input (`code`: the WebSocket close code to answer with): nothing after it is read. */
  error(code: number, message: string): void;
}

export const WsOpcode = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;
export const WsClose = { NoStatus: 1005, Protocol: 1002, InvalidData: 1007, TooBig: 1009 } as const;

/** Reads start this large: a read at a message's start copies at most this into a spanning message. */
const READ_SIZE = 32 * 1024;
/** Frames spanning reads are assembled in pooled buffers from this size on (smaller: plain allocations). */
const POOLED_FROM = 16 * 1024;
/** The longest frame header of a client frame: 2 + 8 (length) + 4 (mask). */
const MAX_HEADER = 14;

/** A frame whose payload spans reads: the reads go straight into `payload` until it is full. */
interface SpanningFrame {
  opcode: number;
  fin: boolean;
  mask: Buffer;
  payload: Buffer;
  pooled: PooledBuffer | undefined;
  filled: number;
}

/**
 * Parses the masked frames an agent (a WebSocket client) sends, from reads into pooled buffers
 * (RFC 6455 section 5). Usage, with a socket's `onread`:
 *
 *   buffer: () => receiver.nextBuffer(),  callback: (n) => receiver.onRead(n)
 *
 * or push(chunk) for bytes read elsewhere (the upgrade's head, sockets Node reads itself).
 *
 * A frame wholly inside one read is unmasked in place and handed on as a view of the read buffer.
 * One that spans reads gets a buffer of its own payload size: what arrived is copied there (at
 * most one read, READ_SIZE), and the next reads go straight into it. Fragmented messages are
 * copied together (agents built on `ws` do not fragment). Control frames are handed on as copies.
 */
export class FrameReceiver {
  /** The buffer being read into (none between a read and the next nextBuffer()). */
  private readBuffer: PooledBuffer | undefined;
  /** Bytes of an incomplete frame header carried from the last read to the next. */
  private carry = Buffer.alloc(MAX_HEADER);
  private carried = 0;
  private spanning: SpanningFrame | undefined;
  /** A fragmented message: its opcode and the copies of its fragments. */
  private fragments: { opcode: number; parts: Buffer[]; size: number } | undefined;
  private stopped = false;
  /** What nextBuffer() returned last: the read it is given to must land there. */
  private region: Buffer | undefined;

  constructor(
    private readonly pool: ReceivePool,
    private readonly maxPayload: number,
    private readonly sink: ReceiverSink,
  ) {}

  /** Where the next read goes. */
  nextBuffer(): Buffer {
    const frame = this.spanning;
    if (frame) return (this.region = frame.payload.subarray(frame.filled));
    if (!this.readBuffer) {
      this.readBuffer = this.pool.take(READ_SIZE);
      this.carry.copy(this.readBuffer.bytes, 0, 0, this.carried);
    }
    return (this.region = this.readBuffer.bytes.subarray(this.carried));
  }

  /** `bytes` were read into `into`, the buffer nextBuffer() returned last. */
  onRead(bytes: number, into: Uint8Array): void {
    if (into !== this.region) throw new Error('FrameReceiver: a read landed outside the buffer it was given');
    this.region = undefined;
    if (this.stopped || bytes <= 0) return;
    const frame = this.spanning;
    if (frame) return this.onSpanningRead(frame, bytes);
    const read = this.readBuffer!;
    this.readBuffer = undefined; // the next read takes a buffer again (this one, if nothing kept a view)
    try {
      this.parse(read, this.carried + bytes);
    } finally {
      read.release();
    }
  }

  /**
   * Bytes read outside nextBuffer(), copied in as if read: the upgrade's head before the socket
   * reads with onread, or everything from a socket that cannot (TLS, a forwarded Duplex).
   */
  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.stopped) {
      const into = this.nextBuffer();
      const n = chunk.copy(into, 0, offset);
      offset += n;
      this.onRead(n, into);
    }
  }

  /** Reading ends (the socket closed): whatever is held goes back. */
  dispose(): void {
    this.stopped = true;
    this.readBuffer?.release();
    this.readBuffer = undefined;
    this.spanning?.pooled?.release();
    this.spanning = undefined;
  }

  private parse(read: PooledBuffer, end: number): void {
    const buf = read.bytes;
    let pos = 0;
    this.carried = 0;
    while (!this.stopped) {
      const available = end - pos;
      if (available < 2) break;
      const b0 = buf[pos];
      const b1 = buf[pos + 1];
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if ((b0 & 0x70) !== 0) return this.fail(WsClose.Protocol, 'reserved bits set (no extension was agreed)');
      if ((b1 & 0x80) === 0) return this.fail(WsClose.Protocol, 'client frames must be masked');
      if (opcode > WsOpcode.Binary && opcode < WsOpcode.Close) return this.fail(WsClose.Protocol, `unknown opcode ${opcode}`);
      if (opcode > WsOpcode.Pong) return this.fail(WsClose.Protocol, `unknown opcode ${opcode}`);
      const len7 = b1 & 0x7f;
      const headerSize = len7 === 126 ? 8 : len7 === 127 ? 14 : 6;
      if (available < headerSize) break;
      let length = len7;
      if (len7 === 126) length = buf.readUInt16BE(pos + 2);
      else if (len7 === 127) {
        const high = buf.readUInt32BE(pos + 2);
        if (high > 0) return this.fail(WsClose.TooBig, 'message too big');
        length = buf.readUInt32BE(pos + 6);
      }
      if (opcode >= WsOpcode.Close) {
        if (!fin) return this.fail(WsClose.Protocol, 'fragmented control frame');
        if (length > 125) return this.fail(WsClose.Protocol, 'control frame longer than 125 bytes');
      } else if (length + (this.fragments?.size ?? 0) > this.maxPayload) {
        return this.fail(WsClose.TooBig, 'message too big');
      }
      const maskAt = pos + headerSize - 4;
      const start = pos + headerSize;
      if (end - start >= length) {
        const payload = buf.subarray(start, start + length);
        unmaskInPlace(payload, buf.subarray(maskAt, start), 0);
        pos = start + length;
        this.onFrame(opcode, fin, payload, read);
        continue;
      }
      // The payload spans reads: it gets a buffer of its own, and the next reads go straight into it.
      const pooled = length >= POOLED_FROM ? this.pool.take(length) : undefined;
      const payload = pooled ? pooled.bytes.subarray(0, length) : Buffer.allocUnsafe(length);
      const mask = Buffer.from(buf.subarray(maskAt, start));
      const filled = buf.copy(payload, 0, start, end);
      unmaskInPlace(payload.subarray(0, filled), mask, 0);
      this.spanning = { opcode, fin, mask, payload, pooled, filled };
      return;
    }
    if (this.stopped) return;
    this.carried = buf.copy(this.carry, 0, pos, end);
  }

  private onSpanningRead(frame: SpanningFrame, bytes: number): void {
    unmaskInPlace(frame.payload.subarray(frame.filled, frame.filled + bytes), frame.mask, frame.filled);
    frame.filled += bytes;
    if (frame.filled < frame.payload.length) return;
    this.spanning = undefined;
    try {
      this.onFrame(frame.opcode, frame.fin, frame.payload, frame.pooled);
    } finally {
      frame.pooled?.release();
    }
  }

  private onFrame(opcode: number, fin: boolean, payload: Buffer, lease: PayloadLease | undefined): void {
    switch (opcode) {
      case WsOpcode.Text:
      case WsOpcode.Binary:
        if (this.fragments) return this.fail(WsClose.Protocol, 'a new message before the fragmented one ended');
        if (!fin) {
          this.fragments = { opcode, parts: [Buffer.from(payload)], size: payload.length };
          return;
        }
        return this.deliver(opcode, payload, lease);
      case WsOpcode.Continuation: {
        const fragments = this.fragments;
        if (!fragments) return this.fail(WsClose.Protocol, 'continuation frame without a message');
        fragments.parts.push(Buffer.from(payload));
        fragments.size += payload.length;
        if (!fin) return;
        this.fragments = undefined;
        return this.deliver(fragments.opcode, Buffer.concat(fragments.parts, fragments.size), undefined);
      }
      case WsOpcode.Close:
        return this.onClose(payload);
      case WsOpcode.Ping:
        return this.sink.ping(Buffer.from(payload));
      case WsOpcode.Pong:
        return;
    }
  }

  private deliver(opcode: number, data: Buffer, lease: PayloadLease | undefined): void {
    if (opcode === WsOpcode.Text && !isUtf8(data)) return this.fail(WsClose.InvalidData, 'text message is not UTF-8');
    this.sink.message(data, opcode === WsOpcode.Binary, lease);
  }

  private onClose(payload: Buffer): void {
    if (payload.length === 1) return this.fail(WsClose.Protocol, 'close frame with a 1-byte payload');
    if (payload.length === 0) {
      this.stopped = true;
      return this.sink.close(WsClose.NoStatus, Buffer.alloc(0));
    }
    const code = payload.readUInt16BE(0);
    if (!isValidCloseCode(code)) return this.fail(WsClose.Protocol, `invalid close code ${code}`);
    const reason = Buffer.from(payload.subarray(2));
    if (!isUtf8(reason)) return this.fail(WsClose.InvalidData, 'close reason is not UTF-8');
    this.stopped = true;
    this.sink.close(code, reason);
  }

  private fail(code: number, message: string): void {
    this.stopped = true;
    this.sink.error(code, message);
  }
}

/** Codes a peer may send in a close frame (RFC 6455 7.4, as `ws` checks them). */
function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}
