import type { WebSocket } from 'ws';
import { ControlChannel } from '../../mux/control-channel';
import { MuxSession } from '../../mux/session';
import type { MuxStream } from '../../mux/stream';
import { CloseCode, parseAgentMessage, type AgentToRelay } from '../../protocol/control';
import { GoAwayCode } from '../../protocol/frame';
import { counters } from './admin/counters';
import { SessionRoutes } from './session-routes';

/** Who a session is beyond its identity, and what it may use. */
export interface SessionGrant {
  /** The token it logged in with (undefined: AUTH_KEY or an open relay); per-token limits key on it. */
  tokenId?: string;
  /** Streams (public requests) in flight at once; beyond it the relay answers 503. */
  maxStreams?: number;
  /** Bytes the agent may leave unread before it is cut off (see SessionOptions.maxUnsentBytes). */
  maxUnsentBytes?: number;
}

/** One connected agent: its WebSocket, its multiplexed session, its routes, and who it is. */
export class AgentSession {
  readonly mux: MuxSession;
  readonly control: ControlChannel<AgentToRelay>;
  readonly routes = new SessionRoutes();
  readonly connectedAt = new Date();
  readonly tokenId: string | undefined;
  private readonly maxStreams: number;
  /** Streams in flight and the visitor bytes of those that closed, for /tunnels and metrics. */
  private readonly liveStreams = new Set<MuxStream>();
  private closedBytesIn = 0;
  private closedBytesOut = 0;
  private idleWaiters: (() => void)[] = [];
  /** WebSocket close code when the mux closes the transport: a protocol error unless close() said otherwise. */
  private closeCode: number = CloseCode.ProtocolError;

  constructor(
    readonly ws: WebSocket,
    readonly identityId: string,
    readonly hostname: string,
    readonly remoteAddress: string,
    keepaliveMs: number,
    grant: SessionGrant = {},
  ) {
    this.tokenId = grant.tokenId;
    this.maxStreams = grant.maxStreams ?? Number.POSITIVE_INFINITY;
    this.mux = new MuxSession(
      {
        send: (message) => ws.send(message, { binary: true }),
        close: (reason) => ws.close(this.closeCode, reason.slice(0, 120)),
        unsentBytes: () => ws.bufferedAmount,
        destroy: () => ws.terminate(),
      },
      // The relay opens every stream; an agent that tries to is cut off.
      { side: 'server', acceptStreams: false, keepaliveIntervalMs: keepaliveMs, keepaliveTimeoutMs: keepaliveMs, maxUnsentBytes: grant.maxUnsentBytes },
    );
    this.control = new ControlChannel<AgentToRelay>(
      (text) => ws.send(text),
      parseAgentMessage,
      (reason) => this.mux.protocolError(`bad control message: ${reason}`),
    );
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.mux.receive(data);
      else this.control.receive(data.toString('utf8'));
    });
    ws.on('close', (code, reason) => this.mux.transportClosed(`websocket closed (${code}${reason.length ? `: ${reason}` : ''})`));
    this.mux.once('close', (reason: string) => {
      this.control.close(reason);
      this.wakeIdleWaiters();
    });
  }

  /** Whether this session's identity may serve the domain: its hostname or a subdomain of it. */
  ownsDomain(domain: string): boolean {
    return domain === this.hostname || domain.endsWith(`.${this.hostname}`);
  }

  /** Whether the session already carries its most streams (a new request would exceed the limit). */
  get atStreamLimit(): boolean {
    return this.mux.streamCount >= this.maxStreams;
  }

  openStream(): MuxStream {
    const stream = this.mux.openStream();
    this.liveStreams.add(stream);
    stream.once('close', () => {
      this.liveStreams.delete(stream);
      // The relay writes what visitors send (bytesOut) and reads what they receive (bytesIn).
      this.closedBytesIn += stream.bytesOut;
      this.closedBytesOut += stream.bytesIn;
      counters.closedBytesIn += stream.bytesOut;
      counters.closedBytesOut += stream.bytesIn;
      if (this.liveStreams.size === 0) this.wakeIdleWaiters();
    });
    return stream;
  }

  /** Resolves once no stream is open (at once if none is), or when the session closes. */
  whenIdle(): Promise<void> {
    if (this.liveStreams.size === 0 || this.mux.isClosed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Visitor bytes through this session so far: received from visitors (in), sent to them (out). */
  get traffic(): { in: number; out: number; liveIn: number; liveOut: number } {
    let liveIn = 0;
    let liveOut = 0;
    for (const stream of this.liveStreams) {
      liveIn += stream.bytesOut;
      liveOut += stream.bytesIn;
    }
    return { in: this.closedBytesIn + liveIn, out: this.closedBytesOut + liveOut, liveIn, liveOut };
  }

  get isOpen(): boolean {
    return !this.mux.isClosed;
  }

  close(code: number, reason: string): void {
    this.closeCode = code;
    const goAway = { [CloseCode.Unauthorized]: GoAwayCode.Unauthorized, [CloseCode.Replaced]: GoAwayCode.Replaced }[code] ?? GoAwayCode.Normal;
    this.mux.close(reason, goAway);
    this.ws.close(code, reason.slice(0, 120));
  }
}
