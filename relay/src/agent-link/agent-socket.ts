import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { PayloadLease } from '../../../mux/payload-lease';
import { acceptHandshake, refusalResponse } from './handshake';
import { FrameReceiver, WsClose, WsOpcode, type ReceiverSink } from './frame-receiver';
import { serverFrameHeaderSize, writeFrameHeader } from '../../../protocol/websocket-frame-header';
import { closePayload, writeFrame } from './frame-writer';
import type { ReceivePool } from './receive-pool';

/** What an AgentSocket emits: the part of `ws`'s WebSocket events the relay uses. */
export interface AgentSocketEvents {
  message: [data: Buffer, isBinary: boolean, lease: PayloadLease | undefined];
  close: [code: number, reason: Buffer];
  error: [err: Error];
}

/** After our close frame, the agent has this long to close the connection (as `ws`'s closeTimeout). */
const CLOSE_TIMEOUT_MS = 30_000;
const EMPTY = Buffer.alloc(0);

export class WebSocketProtocolError extends Error {
  constructor(
    message: string,
    readonly closeCode: number,
  ) {
    super(message);
  }
}

/**
 * The server end of one agent's WebSocket (RFC 6455), with the surface of `ws`'s WebSocket the
 * relay uses: send, close, terminate, readyState, bufferedAmount, 'message' and 'close'. It reads
 * the socket into pooled buffers (FrameReceiver); a 'message' with a `lease` lies in one.
 */
export class AgentSocket extends EventEmitter<AgentSocketEvents> {
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  private state = 1;
  private closeFrameSent = false;
  private closeFrameReceived = false;
  private closeCode = 1006;
  private closeReason: Buffer = EMPTY;
  private closeTimer: NodeJS.Timeout | undefined;
  /** Events the receiver reported before anyone could listen (from the upgrade's head); emitted next tick. */
  private early: (() => void)[] | undefined = [];

  /** @internal use acceptAgentSocket */
  constructor(private readonly socket: Duplex) {
    super();
    process.nextTick(() => {
      const early = this.early ?? [];
      this.early = undefined;
      for (const emit of early) emit();
    });
    socket.on('error', () => socket.destroy());
    socket.on('end', () => {
      this.state = this.CLOSING;
      socket.end();
    });
    socket.once('close', () => {
      this.state = this.CLOSED;
      clearTimeout(this.closeTimer);
      this.onSocketClosed?.();
      this.emit('close', this.closeCode, this.closeReason);
    });
  }

  /** The handshake answer, before any frame. */
  write(raw: string): void {
    this.socket.write(raw);
  }

  /** Set by acceptAgentSocket: frees what the reads hold. */
  onSocketClosed: (() => void) | undefined;

  get readyState(): number {
    return this.state;
  }

  /** Bytes handed to send() that the socket has not written yet. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /** A Buffer goes as a binary message unless options.binary is false; a string as text. */
  send(data: Buffer | string, options?: { binary?: boolean }, written?: (err?: Error | null) => void): void {
    if (this.state !== this.OPEN) return;
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const binary = options?.binary ?? typeof data !== 'string';
    writeFrame(this.socket, binary ? WsOpcode.Binary : WsOpcode.Text, payload, written);
  }

  /**
   * Sends message[headerSize…] as one binary message whose header is written into
   * message[0…headerSize) (serverFrameHeaderSize of the payload): header and payload leave in one
   * write, without a header allocation or a cork. The mux session leaves that room in its batches.
   */
  sendWithHeader(message: Buffer, headerSize: number): void {
    if (this.state !== this.OPEN) return;
    const payloadBytes = message.length - headerSize;
    if (serverFrameHeaderSize(payloadBytes) !== headerSize) throw new RangeError(`a ${payloadBytes}-byte message needs a ${serverFrameHeaderSize(payloadBytes)}-byte header, not ${headerSize}`);
    writeFrameHeader(message, WsOpcode.Binary, payloadBytes, false);
    this.socket.write(message);
  }

  /** Starts the closing handshake (or finishes it, when the agent's close frame came first). */
  close(code?: number, reason?: string): void {
    if (this.state === this.CLOSED) return;
    if (this.state === this.CLOSING) {
      if (this.closeFrameSent && this.closeFrameReceived) this.socket.end();
      return;
    }
    this.state = this.CLOSING;
    writeFrame(this.socket, WsOpcode.Close, closePayload(code, reason), (err) => {
      if (err) return;
      this.closeFrameSent = true;
      if (this.closeFrameReceived) this.socket.end();
    });
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS);
  }

  /** Drops the connection without a closing handshake. */
  terminate(): void {
    if (this.state === this.CLOSED) return;
    this.state = this.CLOSING;
    this.socket.destroy();
  }

  /** What the FrameReceiver reports, turned into events. */
  readonly sink: ReceiverSink = {
    message: (data, isBinary, lease) => {
      if (!this.early) return void this.emit('message', data, isBinary, lease);
      lease?.retain(); // held until emitted
      this.early.push(() => {
        try {
          this.emit('message', data, isBinary, lease);
        } finally {
          lease?.release();
        }
      });
    },
    ping: (data) => {
      if (this.state === this.OPEN) writeFrame(this.socket, WsOpcode.Pong, data);
    },
    close: (code, reason) => {
      this.closeFrameReceived = true;
      this.closeCode = code;
      this.closeReason = reason;
      if (code === WsClose.NoStatus) this.close();
      else this.close(code, reason.toString('utf8'));
    },
    error: (code, message) => {
      this.closeCode = code;
      this.close(code, message);
      const err = new WebSocketProtocolError(message, code);
      if (this.early) this.early.push(() => this.emit('error', err));
      else this.emit('error', err);
    },
  };
}

export interface AgentSocketOptions {
  pool: ReceivePool;
  /** Larger messages close the connection with 1009. */
  maxPayload: number;
}

interface HandleSocket {
  _handle: (object & { readStop(): number; reading?: boolean; useUserBuffer?: unknown }) | null;
}

/**
 * Completes an agent's WebSocket upgrade, or refuses it (HTTP 400 and close) and returns undefined.
 *
 * A plain TCP socket is taken over: its handle is re-wrapped in a net.Socket whose reads go
 * straight into the receiver's pooled buffers (`onread`); the socket Node's HTTP server upgraded
 * is left without a handle (nothing it does can touch the connection any more) and is destroyed
 * when the new one closes, so the server's connection count stays right. Other sockets (TLS, a
 * connection another relay forwarded) are read as Node reads them, and copied into the buffers.
 */
export function acceptAgentSocket(req: IncomingMessage, upgraded: Duplex, head: Buffer, options: AgentSocketOptions): AgentSocket | undefined {
  if (!upgraded.readable || !upgraded.writable) {
    upgraded.destroy();
    return undefined;
  }
  const handshake = acceptHandshake(req);
  if (!handshake.ok) {
    upgraded.end(refusalResponse(handshake.status, handshake.message, handshake.headers));
    return undefined;
  }
  const takeOver = takeOverHandle(upgraded);
  // The receiver may report frames of the head before the AgentSocket exists: they wait for it.
  let agentSocket: AgentSocket | undefined;
  const waiting: ((socket: AgentSocket) => void)[] = [];
  const to = (report: (socket: AgentSocket) => void) => (agentSocket ? report(agentSocket) : waiting.push(report));
  const sink: ReceiverSink = {
    message: (data, isBinary, lease) => {
      if (agentSocket) return agentSocket.sink.message(data, isBinary, lease);
      lease?.retain(); // the view must outlive the read that brought it
      waiting.push((socket) => {
        try {
          socket.sink.message(data, isBinary, lease);
        } finally {
          lease?.release();
        }
      });
    },
    ping: (data) => to((socket) => socket.sink.ping(data)),
    close: (code, reason) => to((socket) => socket.sink.close(code, reason)),
    error: (code, message) => to((socket) => socket.sink.error(code, message)),
  };
  const receiver = new FrameReceiver(options.pool, options.maxPayload, sink);
  // Bytes read before the receiver's own reads go first.
  receiver.push(head);
  if (takeOver?.buffered) receiver.push(takeOver.buffered);
  if (takeOver) {
    // `handle` is what Node itself uses to wrap an accepted or passed handle (not in the types).
    const socketOptions = {
      handle: takeOver.handle,
      onread: {
        buffer: () => receiver.nextBuffer(),
        callback: (bytes: number, into: Uint8Array) => {
          receiver.onRead(bytes, into);
          return true;
        },
      },
    };
    const socket = new net.Socket(socketOptions as net.SocketConstructorOpts);
    socket.once('close', () => upgraded.destroy());
    agentSocket = new AgentSocket(socket);
  } else {
    upgraded.on('data', (chunk: Buffer) => receiver.push(chunk));
    agentSocket = new AgentSocket(upgraded);
  }
  agentSocket.write(handshake.response);
  for (const report of waiting) report(agentSocket);
  agentSocket.onSocketClosed = () => receiver.dispose();
  return agentSocket;
}

/** The handle of a plain TCP socket, detached from it, and what it had read but nobody took. */
function takeOverHandle(upgraded: Duplex): { handle: object; buffered: Buffer | undefined } | undefined {
  if (!(upgraded instanceof net.Socket) || 'encrypted' in upgraded) return undefined;
  const holder = upgraded as unknown as HandleSocket;
  const handle = holder._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function') return undefined;
  upgraded.setTimeout(0);
  handle.readStop();
  handle.reading = false;
  const buffered = upgraded.readableLength > 0 ? (upgraded.read() as Buffer | null) ?? undefined : undefined;
  holder._handle = null;
  return { handle, buffered };
}
