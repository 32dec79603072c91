import { BlockedVisitorsReport } from './blocked-visitors';
import { ControlChannel } from '../../mux/control-channel';
import { MuxSession } from '../../mux/session';
import { STREAM_BUFFER_BYTES, type MuxStream } from '../../mux/stream';
import { CloseCode, parseAgentMessage, type AgentToRelay } from '../../protocol/control';
import { GoAwayCode, INITIAL_WINDOW } from '../../protocol/frame';
import { counters } from './admin/counters';
import type { AgentSocket } from './agent-link/agent-socket';
import { serverFrameHeaderSize } from '../../protocol/websocket-frame-header';
import { rateLimitKey } from './security/rate-limiter';
import { SendQueueWatch } from './send-queue-watch';
import { SessionRoutes } from './session-routes';

/** Who a session is beyond its identity, and what it may use. */
export interface SessionGrant {
  /** The token it logged in with (undefined: AUTH_KEY or an open relay); per-token limits key on it. */
  tokenId?: string;
  /** Streams (public requests) in flight at once; beyond it the relay answers 503. */
  maxStreams?: number;
  /**
   * The share (percent) of the session's streams one client address may hold at once, kept-alive
   * idle connections included; beyond it that address gets 429 and the others go on (100: no share).
   */
  addressSharePercent?: number;
  /**
   * The cap on the send queue (bytes the agent has not read): over it for unsentGraceMs, the
   * session is cut off; over twice it, at once (the mux's SessionOptions.maxUnsentBytes).
   */
  maxUnsentBytes?: number;
  unsentGraceMs?: number;
  /**
   * What the relay may buffer for this session's streams, worst case: each stream holds up to a
   * window from the agent that its visitor has not read and a Writable's worth towards the agent.
   * Bounds the streams at once (windows × streams), beside maxStreams.
   */
  maxBufferedBytes?: number;
  /** Told the visitor bytes (both ways) of each stream that ends: per-token usage. */
  countBytes?: (bytes: number) => void;
  /** The agent asked to hear of visitors its firewalls dropped (AgentFeature.BlockedVisitors). */
  reportBlocked?: boolean;
}

/**
 * Whose share a stream counts against: an IPv4 address itself (no work on the common path), an
 * IPv6 address's /64, which one host usually holds whole and could otherwise rotate through.
 */
function shareKey(clientAddress: string): string {
  return clientAddress.includes(':') ? rateLimitKey(clientAddress) : clientAddress;
}

/** The most one stream makes the relay hold (see SessionGrant.maxBufferedBytes). */
export const STREAM_WORST_CASE_BYTES = INITIAL_WINDOW + STREAM_BUFFER_BYTES;
const DEFAULT_UNSENT_GRACE_MS = 3000;
/** After the session ended (a GoAway either way), the agent has this long to finish the WebSocket close. */
export const GOODBYE_GRACE_MS = 2000;

/** One connected agent: its WebSocket, its multiplexed session, its routes, and who it is. */
export class AgentSession {
  readonly mux: MuxSession;
  readonly control: ControlChannel<AgentToRelay>;
  readonly routes = new SessionRoutes();
  readonly connectedAt = new Date();
  readonly tokenId: string | undefined;
  private readonly maxStreams: number;
  /** Streams one client address may hold at once (see SessionGrant.addressSharePercent). */
  readonly maxStreamsPerAddress: number;
  /** Streams held per client address: an entry is made on an address's first stream and dropped at zero. */
  private readonly streamsByAddress = new Map<string, number>();
  private readonly countBytes: ((bytes: number) => void) | undefined;
  /** Streams in flight and the visitor bytes of those that closed, for /tunnels and metrics. */
  private readonly liveStreams = new Set<MuxStream>();
  private closedBytesIn = 0;
  private closedBytesOut = 0;
  private idleWaiters: (() => void)[] = [];
  /** Called when an agent did not finish the WebSocket close within GOODBYE_GRACE_MS (for the log). */
  onSocketCut: (() => void) | undefined;
  /** WebSocket close code when the mux closes the transport: a protocol error unless close() said otherwise. */
  private closeCode: number = CloseCode.ProtocolError;
  private readonly blocked: BlockedVisitorsReport | undefined;

  constructor(
    readonly ws: AgentSocket,
    readonly identityId: string,
    readonly hostname: string,
    readonly remoteAddress: string,
    keepaliveMs: number,
    grant: SessionGrant = {},
  ) {
    this.tokenId = grant.tokenId;
    this.countBytes = grant.countBytes;
    this.blocked = grant.reportBlocked ? new BlockedVisitorsReport((m) => this.control.send(m)) : undefined;
    const bufferedStreams = grant.maxBufferedBytes === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(grant.maxBufferedBytes / STREAM_WORST_CASE_BYTES));
    this.maxStreams = Math.min(grant.maxStreams ?? Number.POSITIVE_INFINITY, bufferedStreams);
    const share = grant.addressSharePercent ?? 100;
    this.maxStreamsPerAddress = share >= 100 ? this.maxStreams : Math.max(1, Math.floor((this.maxStreams * share) / 100));
    const cap = grant.maxUnsentBytes;
    const sendQueue =
      cap === undefined
        ? undefined
        : new SendQueueWatch(() => ws.bufferedAmount, cap, grant.unsentGraceMs ?? DEFAULT_UNSENT_GRACE_MS, (unsent) => this.cutOff(unsent));
    this.mux = new MuxSession(
      {
        send: (message) => {
          ws.send(message, { binary: true });
          sendQueue?.check();
        },
        // Batches leave room for the WebSocket header: header and frames go in one write.
        headerSize: serverFrameHeaderSize,
        sendWithHeader: (message, headerSize) => {
          ws.sendWithHeader(message, headerSize);
          sendQueue?.check();
        },
        close: (reason) => ws.close(this.closeCode, reason.slice(0, 120)),
        unsentBytes: () => ws.bufferedAmount,
        destroy: () => ws.terminate(),
      },
      // The relay opens every stream; an agent that tries to is cut off.
      { side: 'server', acceptStreams: false, keepaliveIntervalMs: keepaliveMs, keepaliveTimeoutMs: keepaliveMs, maxUnsentBytes: cap === undefined ? undefined : 2 * cap },
    );
    this.control = new ControlChannel<AgentToRelay>(
      (text) => ws.send(text),
      parseAgentMessage,
      (reason) => this.mux.protocolError(`bad control message: ${reason}`),
    );
    ws.on('message', (data, isBinary, lease) => {
      if (this.mux.isClosed) return; // said goodbye: nothing it sends counts any more
      if (isBinary) this.mux.receive(data, lease);
      else this.control.receive(data.toString('utf8'));
    });
    ws.on('close', (code, reason) => this.mux.transportClosed(`websocket closed (${code}${reason.length ? `: ${reason}` : ''})`));
    this.mux.once('close', (reason: string) => {
      sendQueue?.stop();
      this.blocked?.stop();
      this.control.close(reason);
      this.wakeIdleWaiters();
      this.finishSocket();
    });
  }

  /** A visitor the firewall of `route` (a domain or "tcp N") dropped: told to the agent if it asked. */
  reportBlocked(route: string, clientAddress: string): void {
    this.blocked?.add(route, clientAddress);
  }

  /** Whether this session's identity may serve the domain: its hostname or a subdomain of it. */
  ownsDomain(domain: string): boolean {
    return domain === this.hostname || domain.endsWith(`.${this.hostname}`);
  }

  /** Whether the session already carries its most streams (a new request would exceed the limit). */
  get atStreamLimit(): boolean {
    return this.mux.streamCount >= this.maxStreams;
  }

  /** Whether `clientAddress` already holds its share of the streams (a new one would exceed it). */
  atAddressShare(clientAddress: string): boolean {
    return (this.streamsByAddress.get(shareKey(clientAddress)) ?? 0) >= this.maxStreamsPerAddress;
  }

  /** Opens a stream for a visitor at `clientAddress` (counted against its share until it closes). */
  openStream(clientAddress: string): MuxStream {
    const stream = this.mux.openStream();
    this.liveStreams.add(stream);
    const byAddress = this.streamsByAddress;
    const key = shareKey(clientAddress);
    byAddress.set(key, (byAddress.get(key) ?? 0) + 1);
    stream.once('close', () => {
      const held = byAddress.get(key) ?? 1;
      if (held <= 1) byAddress.delete(key);
      else byAddress.set(key, held - 1);
      this.liveStreams.delete(stream);
      // The relay writes what visitors send (bytesOut) and reads what they receive (bytesIn).
      this.closedBytesIn += stream.bytesOut;
      this.closedBytesOut += stream.bytesIn;
      counters.closedBytesIn += stream.bytesOut;
      counters.closedBytesOut += stream.bytesIn;
      this.countBytes?.(stream.bytesIn + stream.bytesOut);
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

  /**
   * The session is over (its registry entry and tunnel count are gone): the socket goes too. An
   * agent that sent GoAway but keeps its WebSocket open is asked to close, then cut after a grace.
   */
  private finishSocket(): void {
    const { ws } = this;
    if (ws.readyState === ws.CLOSED) return;
    if (ws.readyState === ws.OPEN) ws.close(this.mux.peerGoAwayCode === undefined ? this.closeCode : CloseCode.Normal, 'session ended');
    const timer = setTimeout(() => {
      this.onSocketCut?.();
      ws.terminate();
    }, GOODBYE_GRACE_MS).unref();
    ws.once('close', () => clearTimeout(timer));
  }

  /** Ends a session whose agent stopped reading: no closing handshake, it would never be read either. */
  private cutOff(unsentBytes: number): void {
    this.mux.transportClosed(`peer is not reading: ${(unsentBytes / 1024 / 1024).toFixed(1)} MiB unsent for over the grace`);
    this.ws.terminate();
  }

  close(code: number, reason: string): void {
    this.closeCode = code;
    const goAway = { [CloseCode.Unauthorized]: GoAwayCode.Unauthorized, [CloseCode.Replaced]: GoAwayCode.Replaced }[code] ?? GoAwayCode.Normal;
    this.mux.close(reason, goAway);
    this.ws.close(code, reason.slice(0, 120));
  }
}
