import * as net from 'node:net';
import { onEndOrReset } from './end-or-reset';
import { readOnAfterWriteFailure } from './read-on-after-write-failure';
import { HEADER_SIZE, MAX_FRAME_PAYLOAD } from '../protocol/frame';
import { sharedFramePool } from './frame-pool';
import type { MuxStream } from './stream';

/** First and smallest read buffer: small answers never hold more than this per connection. */
const MIN_READ = 16 * 1024;
/** Reads grow (doubling while they come back full) up to one frame. */
const MAX_READ = MAX_FRAME_PAYLOAD;
/** Reads smaller than this are copied into the session's batch, so small answers share messages. */
const BATCH_BELOW = 16 * 1024;

/**
 * Reads a socket straight into Data frames of a mux stream: `net.connect({ onread })` fills a
 * buffer that keeps HEADER_SIZE bytes free in front, the frame header is written there, and the
 * frame leaves as it is. Bulk transfers so cost no copy in user space and one read per 256 KiB
 * instead of Node's 64 KiB; small reads are copied into the session's batch as before.
 *
 * The socket is paused whenever the stream lacks credit for a full read, so it never holds more
 * than the peer granted: flow control is the stream's own.
 *
 * The socket's clean end ends the stream (FIN); its reset, even one libuv reports as an end,
 * resets the stream (RST). Without `allowHalfOpen` the socket is ended once the stream is.
 * A write the peer refuses (it closed, unread bytes reset it) does not drop what it sent before:
 * reading goes on, its bytes reach the stream, and the end that follows resets the stream.
 *
 *   const socket = connectFramed(stream, { host, port });
 *
 * `onBytes` (optional, the request inspector) sees each read before it leaves; it must copy what
 * it keeps, the buffer is a pooled frame.
 */
export function connectFramed(stream: MuxStream, options: net.TcpNetConnectOpts, onBytes?: (bytes: Buffer) => void): net.Socket {
  const reader = new FramedReader(stream, onBytes);
  // Always half-open, so the end can be probed for a reset (mux/end-or-reset.ts).
  const socket = net.connect({ ...options, allowHalfOpen: true, onread: reader.options });
  reader.attach(socket, options.allowHalfOpen ?? false);
  return socket;
}

/** The reads of one socket made by connectFramed. */
class FramedReader {
  private readSize = MIN_READ;
  private frame: Buffer | undefined;
  private socket: net.Socket | undefined;
  private waiting = false;
  /** A write to the socket failed: the peer reset the connection, so its end is a reset too. */
  private writeFailed = false;

  constructor(
    private readonly stream: MuxStream,
    private readonly onBytes?: (bytes: Buffer) => void,
  ) {}

  readonly options: net.OnReadOpts = {
    buffer: () => this.nextBuffer(),
    callback: (bytes, buffer) => this.onRead(bytes, buffer),
  };

  /** The socket created with `options`; its end ends the stream (FIN), its reset resets it. */
  attach(socket: net.Socket, halfOpen: boolean): void {
    this.socket = socket;
    readOnAfterWriteFailure(socket, () => (this.writeFailed = true));
    onEndOrReset(socket, {
      end: () => {
        if (this.writeFailed) {
          this.stream.destroy();
          return;
        }
        this.stream.end();
        if (!halfOpen) socket.end();
      },
      reset: () => this.stream.destroy(),
    });
  }

  private nextBuffer(): Uint8Array {
    const size = HEADER_SIZE + this.readSize;
    if (this.frame && this.frame.length !== size) {
      sharedFramePool.give(this.frame); // never sent: free to reuse
      this.frame = undefined;
    }
    this.frame ??= sharedFramePool.take(size);
    return this.frame.subarray(HEADER_SIZE);
  }

  private onRead(bytes: number, buffer: Uint8Array): boolean {
    const frame = this.frame!; // Node asks nextBuffer() for the buffer of every read
    const full = bytes === buffer.length;
    if (this.onBytes) this.onBytes(frame.subarray(HEADER_SIZE, HEADER_SIZE + bytes));
    let room: boolean;
    if (bytes >= BATCH_BELOW && bytes <= this.stream.directCredit) {
      // The transport owns the frame until it is written; then the next reads may use it again.
      this.stream.sendFramed(frame, bytes, (err) => err || sharedFramePool.give(frame));
      this.frame = undefined;
      room = true;
    } else {
      room = this.stream.sendNow(Buffer.from(buffer.subarray(0, bytes)));
    }
    this.readSize = full ? Math.min(this.readSize * 2, MAX_READ) : bytes < this.readSize / 4 ? Math.max(this.readSize / 2, MIN_READ) : this.readSize;
    if (!room) {
      this.wait(() => this.stream.once('drain', () => this.resume()));
      return false;
    }
    if (this.stream.sendCredit < this.readSize) {
      // Not enough credit for a full read: wait until the peer grants more.
      this.wait(() => this.stream.whenCredit(this.readSize, () => this.resume()));
      return false;
    }
    return true;
  }

  private wait(arm: () => void): void {
    if (this.waiting) return;
    this.waiting = true;
    arm();
  }

  private resume(): void {
    this.waiting = false;
    if (this.socket && !this.socket.destroyed) this.socket.resume();
  }
}
