import { EventEmitter } from 'node:events';
import {
  decodeFrames,
  Flag,
  Frame,
  FrameError,
  FrameType,
  GoAwayCode,
} from '../protocol/frame';
import { FrameBatch } from './frame-batch';
import { FlushTiming } from './flush-timing';
import type { PayloadLease } from './payload-lease';
import { MuxStream, StreamOwner } from './stream';

/** What a MuxSession emits, with each event's arguments. */
export interface MuxSessionEvents {
  /** A stream the peer opened. */
  stream: [stream: MuxStream];
  /** The session ended (transport lost, GoAway, keepalive timeout); reason says which. */
  close: [reason: string];
}

/** Where a session's batched frames go: one WebSocket (or anything that carries whole messages). */
export interface FrameTransport {
  /** `written`, when given, is called once the message has left (err set if it never will). */
  send(message: Buffer, written?: (err?: Error) => void): void;
  /**
   * Optional, with sendWithHeader: the size of the transport's own framing (a WebSocket header)
   * for a message of `messageBytes`. The session then leaves that much free in front of each batch
   * and the transport writes its header there: header and frames leave in one write, not two.
   */
  headerSize?(messageBytes: number): number;
  /** Sends the frames at message[headerSize…]; message[0…headerSize) is the transport's to fill. */
  sendWithHeader?(message: Buffer, headerSize: number): void;
  close(reason: string): void;
  /** Bytes handed to send() that the peer has not taken yet (ws.bufferedAmount). */
  unsentBytes?(): number;
  /** Drops the connection without a closing handshake: a peer that does not read would never finish one. */
  destroy?(): void;
}

export interface SessionOptions {
  /** The relay is 'server' (opens even stream ids), the agent 'client' (odd). */
  side: 'client' | 'server';
  /** Whether the peer may open streams towards us. */
  acceptStreams: boolean;
  keepaliveIntervalMs?: number;
  keepaliveTimeoutMs?: number;
  /** Streams open at once; over it, new ones are refused with RST. */
  maxStreams?: number;
  /**
   * A peer that leaves more than this unread is cut off. Each stream's window bounds what one
   * stream may have in flight; this bounds the session, whatever the number of streams.
   */
  maxUnsentBytes?: number;
  /** The first id this side opens (default 1 or 2); tests start near MAX_STREAM_ID. */
  firstStreamId?: number;
}

/** The highest id the frame header's 32-bit field carries; the next one would go out as 0. */
export const MAX_STREAM_ID = 0xffff_ffff;

export const DEFAULT_KEEPALIVE_INTERVAL_MS = 15_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 10_000;
/** The agent accepts as many as the relay's default allowance (the relay enforces its own, configurable). */
export const DEFAULT_MAX_STREAMS = 65_536;
/**
 * A batch is sent as soon as it holds this much. The peer handles a message only once all
 * of it arrived, so batches much smaller than a stream window keep bulk transfers pipelined
 * (a window-sized batch would turn them into stop-and-wait).
 */
const FLUSH_AT_BYTES = 128 * 1024;
/**
 * Payloads smaller than this are copied out of a larger message, so a slow reader holding a few
 * small pieces cannot pin whole batches in memory; larger ones are used in place (no copy on
 * bulk transfers; what they pin is bounded by the stream window).
 */
const SMALL_PAYLOAD = 16 * 1024;

/**
 * A yamux-style session over a message transport. Frames written in one turn of the
 * event loop are batched into a single message, so many small streams share syscalls
 * (a lone request's frames leave without waiting for the turn's end: flush-timing.ts).
 *
 * Its events are typed by MuxSessionEvents.
 */
export class MuxSession extends EventEmitter<MuxSessionEvents> implements StreamOwner {
  private readonly streams = new Map<number, MuxStream>();
  private nextStreamId: number;
  private highestPeerStreamId = 0;
  private readonly batch = new FrameBatch();
  private readonly flushTiming = new FlushTiming(() => this.scheduledFlush());
  private flushScheduled = false;
  private peerGoAway: number | undefined;
  private closed = false;
  /** Size of the message being decoded, to decide whether a payload view is worth copying. */
  private currentMessageSize = 0;
  /** The pooled buffer the message being decoded lies in, if any: its large payloads are views of it. */
  private currentLease: PayloadLease | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingDeadline: NodeJS.Timeout | undefined;
  private pingCounter = 0;
  private pingSentAt = 0;
  /** Last measured round-trip time in ms (from keepalive pings). */
  rttMs: number | undefined;

  constructor(
    private readonly transport: FrameTransport,
    private readonly options: SessionOptions,
  ) {
    super();
    this.nextStreamId = options.firstStreamId ?? (options.side === 'client' ? 1 : 2);
    const interval = options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS;
    if (interval > 0) {
      this.pingTimer = setInterval(() => this.sendPing(), interval);
      this.pingTimer.unref();
    }
  }

  /** The code of the peer's GoAway, if the session ended with one. */
  get peerGoAwayCode(): number | undefined {
    return this.peerGoAway;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  openStream(): MuxStream {
    if (this.closed) throw new Error('session is closed');
    if (this.nextStreamId > MAX_STREAM_ID) return this.rollOver();
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new MuxStream(id, this, true);
    this.streams.set(id, stream);
    return stream;
  }

  /**
   * Ids are never reused (the peer refuses an id at or below one it saw, and late frames of old
   * streams must not reach new ones), so after 2^31 streams the session ends cleanly: the agent
   * takes a clean GoAway as a cue to reconnect at once, with a fresh session and fresh ids. The
   * open that found no id gets a stream already reset, which its caller answers like any reset.
   */
  private rollOver(): MuxStream {
    const stream = new MuxStream(0, this, true);
    this.close('stream ids exhausted', GoAwayCode.Normal);
    stream.abort('stream ids exhausted: the session is rolling over');
    return stream;
  }

  /**
   * Feed one binary message received from the transport. `lease`: the message lies in a pooled
   * buffer that is reused once nothing refers to it (payload views handed on retain it).
   */
  receive(message: Buffer, lease?: PayloadLease): void {
    if (this.closed) return;
    this.currentMessageSize = message.length;
    this.currentLease = lease;
    try {
      decodeFrames(message, this.onFrame);
    } catch (err) {
      if (err instanceof FrameError) this.protocolError(err.message);
      else throw err;
    } finally {
      this.currentLease = undefined;
    }
  }

  private readonly onFrame = (frame: Frame): void => {
    if (this.closed) return;
    switch (frame.type) {
      case FrameType.Data:
      case FrameType.WindowUpdate:
        return this.onStreamFrame(frame);
      case FrameType.Ping:
        if (frame.flags & Flag.SYN) this.sendFrame(FrameType.Ping, Flag.ACK, 0, frame.length);
        else if (frame.flags & Flag.ACK) this.onPingAck(frame.length);
        return;
      case FrameType.GoAway:
        this.peerGoAway = frame.length;
        return this.shutdown(`peer went away (${GoAwayCode[frame.length] ?? frame.length})`, false);
    }
  };

  private isOurs(id: number): boolean {
    return (id % 2 === 1) === (this.options.side === 'client');
  }

  private onStreamFrame(frame: Frame): void {
    // A window update that grants nothing and carries no flag has no use but to make us work.
    if (frame.type === FrameType.WindowUpdate && frame.length === 0 && frame.flags === 0) {
      return this.protocolError('empty window update');
    }
    const id = frame.streamId;
    let stream = this.streams.get(id);
    if (!stream) {
      if (frame.flags & Flag.SYN && !this.isOurs(id)) {
        if (!this.options.acceptStreams) return this.protocolError('peer may not open streams');
        if (id <= this.highestPeerStreamId) return this.protocolError(`stream id ${id} reused`);
        this.highestPeerStreamId = id;
        if (this.streams.size >= (this.options.maxStreams ?? DEFAULT_MAX_STREAMS)) {
          this.sendFrame(FrameType.WindowUpdate, Flag.RST, id, 0);
          return;
        }
        stream = new MuxStream(id, this, false);
        this.streams.set(id, stream);
        // Nobody to serve it: refuse at once rather than leave the peer's request hanging.
        if (this.listenerCount('stream') === 0) return void stream.destroy();
        this.emit('stream', stream);
      } else {
        // Late frames for a stream that already closed are normal (they crossed our RST/FIN).
        const known = this.isOurs(id) ? id < this.nextStreamId : id <= this.highestPeerStreamId;
        if (known) return;
        return this.protocolError(`frame for stream ${id}, which was never opened`);
      }
    }
    if (frame.type === FrameType.Data) {
      const view = frame.payload;
      // A small payload in a pooled buffer is copied too: cheaper than lending it, and it does not hold the buffer.
      if (view.length < SMALL_PAYLOAD && (this.currentLease !== undefined || this.currentMessageSize > 4 * view.length)) stream.onData(frame.flags, Buffer.from(view));
      else stream.onData(frame.flags, view, this.currentLease);
    } else {
      stream.onWindowUpdate(frame.flags, frame.length);
    }
  }

  // --- StreamOwner ---

  sendFrame(type: FrameType, flags: number, streamId: number, length: number, payload?: Buffer): void {
    if (this.closed) return;
    this.batch.add(type, flags, streamId, length, payload);
    if (this.batch.bytes >= FLUSH_AT_BYTES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.flushTiming.schedule();
    }
  }

  sendFramed(frame: Buffer, written?: (err?: Error) => void): void {
    if (this.closed) return;
    this.flush(); // frames queued earlier go first
    if (this.closed) return written?.(new Error('session is closed'));
    this.transport.send(frame, written);
    this.checkUnsent();
  }

  protocolError(reason: string): void {
    if (this.closed) return;
    this.sendFrame(FrameType.GoAway, 0, 0, GoAwayCode.ProtocolError);
    this.shutdown(`protocol error: ${reason}`, true);
  }

  forget(streamId: number): void {
    this.streams.delete(streamId);
  }

  // --- batching ---

  private scheduledFlush(): void {
    const frames = this.batch.frames;
    this.flush();
    if (frames > 0) this.flushTiming.flushed(frames);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.batch.isEmpty) return;
    const { transport } = this;
    if (transport.headerSize && transport.sendWithHeader) {
      const headerSize = transport.headerSize(this.batch.bytes);
      transport.sendWithHeader(this.batch.take(headerSize), headerSize);
    } else {
      transport.send(this.batch.take(0));
    }
    this.checkUnsent();
  };

  private checkUnsent(): void {
    const max = this.options.maxUnsentBytes;
    if (max === undefined || this.closed || !this.transport.unsentBytes) return;
    const unsent = this.transport.unsentBytes();
    if (unsent <= max) return;
    // Nothing more goes out (shutdown's own flush would only add to what is not read).
    this.batch.clear();
    this.shutdown(`peer is not reading: ${Math.round(unsent / 1024 / 1024)} MiB unsent`, false);
    if (this.transport.destroy) this.transport.destroy();
    else this.transport.close('peer is not reading');
  }

  // --- keepalive ---

  private sendPing(): void {
    if (this.closed || this.pingDeadline) return;
    this.pingCounter = (this.pingCounter + 1) >>> 0;
    this.pingSentAt = performance.now();
    this.sendFrame(FrameType.Ping, Flag.SYN, 0, this.pingCounter);
    const timeout = this.options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
    this.pingDeadline = setTimeout(() => this.shutdown(`keepalive timeout: no answer to ping within ${timeout} ms`, true), timeout);
    this.pingDeadline.unref();
  }

  private onPingAck(value: number): void {
    if (value !== this.pingCounter || !this.pingDeadline) return;
    clearTimeout(this.pingDeadline);
    this.pingDeadline = undefined;
    this.rttMs = performance.now() - this.pingSentAt;
  }

  // --- closing ---

  /** Graceful close: tell the peer, then close the transport. */
  close(reason = 'closed', code: GoAwayCode = GoAwayCode.Normal): void {
    if (this.closed) return;
    this.sendFrame(FrameType.GoAway, 0, 0, code);
    this.shutdown(reason, true);
  }

  /** The transport went away underneath us. */
  transportClosed(reason: string): void {
    this.shutdown(reason, false);
  }

  private shutdown(reason: string, closeTransport: boolean): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.pingTimer);
    clearTimeout(this.pingDeadline);
    for (const stream of this.streams.values()) stream.abort(`session closed: ${reason}`);
    this.streams.clear();
    if (closeTransport) this.transport.close(reason);
    this.emit('close', reason);
  }
}
