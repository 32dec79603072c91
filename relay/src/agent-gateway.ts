import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  AgentFeature,
  CloseCode,
  ControlMessageError,
  HANDSHAKE_VERSION,
  parseAgentMessage,
  type RefusalCode,
  type RelayToAgent,
} from '../../protocol/control';
import { MAX_MESSAGE_SIZE } from '../../protocol/frame';
import { counters } from './admin/counters';
import { acceptAgentSocket, type AgentSocket } from './agent-link/agent-socket';
import { agentReceivePool } from './agent-link/receive-pool';
import { AgentSession, GOODBYE_GRACE_MS } from './agent-session';
import { HostnameError, IdentityLimitError, type IdentityStore } from './identity-store';
import type { LogLine } from './logging/relay-logger';
import type { AgentAdmission } from './security/agent-admission';
import type { SessionFeatures } from './session-policy';
import type { TunnelRegistry } from './tunnel-registry';

export interface GatewayOptions {
  domain: string;
  authKey?: string;
  keepaliveMs: number;
  /** A connection that has not said hello within this is closed. */
  handshakeTimeoutMs: number;
  /** Streams one session may carry at once (see AgentSession.atStreamLimit). */
  maxStreamsPerSession: number;
  /** The percent of those one client address may hold (see SessionGrant.addressSharePercent). */
  addressSharePercent: number;
  /** The send-queue cap of a session, and how long it may stay over it (see SessionGrant). */
  maxUnsentBytesPerSession: number;
  unsentGraceMs: number;
  /** What the relay may buffer for one session's streams, worst case (see SessionGrant.maxBufferedBytes). */
  maxBufferedBytesPerSession: number;
  /** The client's address (after trusted proxies), for the failed-login rate limit and logs. */
  clientAddressOf: (req: IncomingMessage) => string;
  log: LogLine;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** Accepts agent WebSockets: handshake, authentication, hostname assignment. */
export class AgentGateway {
  /** Every agent WebSocket open now (close() cuts them). */
  private readonly sockets = new Set<AgentSocket>();

  constructor(
    private readonly options: GatewayOptions,
    private readonly identities: IdentityStore,
    private readonly registry: TunnelRegistry,
    private readonly features: SessionFeatures,
    private readonly admission: AgentAdmission,
  ) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ws = acceptAgentSocket(req, socket, head, { pool: agentReceivePool, maxPayload: MAX_MESSAGE_SIZE + 1024 });
    if (!ws) return;
    this.sockets.add(ws);
    ws.once('close', () => this.sockets.delete(ws));
    this.onConnection(ws, req);
  }

  private onConnection(ws: AgentSocket, req: IncomingMessage): void {
    const remote = this.options.clientAddressOf(req);
    const timer = setTimeout(() => ws.close(CloseCode.ProtocolError, 'handshake timeout'), this.options.handshakeTimeoutMs);
    ws.on('error', () => ws.terminate());
    ws.once('message', (data: Buffer, isBinary: boolean) => {
      clearTimeout(timer);
      if (isBinary) return this.refuse(ws, 'bad-request', 'the first message must be a hello');
      try {
        this.onHello(ws, data.toString('utf8'), remote);
      } catch (err) {
        if (err instanceof ControlMessageError) return this.refuse(ws, 'bad-request', err.message);
        throw err;
      }
    });
  }

  private onHello(ws: AgentSocket, text: string, remote: string): void {
    const hello = parseAgentMessage(text);
    if (hello.type !== 'hello') return this.refuse(ws, 'bad-request', 'the first message must be a hello');
    if (hello.version !== HANDSHAKE_VERSION) {
      return this.refuse(ws, 'version-mismatch', `this relay speaks protocol version ${HANDSHAKE_VERSION}, the agent ${hello.version}; upgrade the older side`);
    }
    const login = this.admission.login(hello.auth, remote);
    if (!login.ok) return this.refuse(ws, login.code, login.message);
    if (hello.identity.length < 16) return this.refuse(ws, 'bad-request', 'identity too short');
    const identityId = sha256(hello.identity).toString('hex');
    if (hello.mode !== 'control') {
      const admitted = this.admission.admitTunnel(login.token, identityId);
      if (!admitted.ok) return this.refuse(ws, admitted.code, admitted.message);
      const closed = this.features.tunnelRefusal();
      if (closed !== undefined) return this.refuse(ws, 'rate-limited', closed); // agents retry this code
    }
    let hostname: string;
    try {
      hostname = this.identities.assign(identityId, hello.requestedHostname, this.admission.identityOwner(login.token));
    } catch (err) {
      if (err instanceof IdentityLimitError) {
        if (login.token) this.admission.usage.addRefusal(login.token.id);
        return this.refuse(ws, 'limit-reached', err.message);
      }
      if (err instanceof HostnameError) return this.refuse(ws, err.code === 'taken' ? 'hostname-taken' : 'bad-request', err.message);
      throw err;
    }
    const tokenId = login.token?.id;
    const session = new AgentSession(ws, identityId, hostname, remote, this.options.keepaliveMs, {
      tokenId,
      countBytes: tokenId === undefined ? undefined : (bytes) => this.admission.usage.addBytes(tokenId, bytes),
      maxStreams: this.options.maxStreamsPerSession,
      addressSharePercent: this.options.addressSharePercent,
      maxUnsentBytes: this.options.maxUnsentBytesPerSession,
      unsentGraceMs: this.options.unsentGraceMs,
      maxBufferedBytes: this.options.maxBufferedBytesPerSession,
      reportBlocked: hello.features?.includes(AgentFeature.BlockedVisitors),
    });
    this.admission.track(session);
    session.onSocketCut = () => this.options.log(`cut the WebSocket of ${hostname}: the session ended and the agent did not close within ${GOODBYE_GRACE_MS} ms`, { hostname });
    session.mux.once('close', () => this.identities.touch(identityId));
    const { features } = this;
    for (const [method, handler] of features.requestHandlers) session.control.handle(method, (params) => handler(session, params));
    session.control.on('routes', (sync) => {
      const rejected = session.routes.apply(
        sync,
        (domain) => features.mayUseDomain(session, domain),
        (port) => features.mayUsePort(session, port),
      );
      session.control.send({ type: 'routes-result', rejected });
      for (const observer of features.observers) observer.routesChanged?.(session);
    });
    this.send(ws, { type: 'welcome', version: HANDSHAKE_VERSION, hostname, domain: this.options.domain, keepaliveMs: this.options.keepaliveMs });
    if (hello.mode === 'control') return; // CLI requests only: not a tunnel, replaces nothing
    counters.agentSession('accepted');
    this.registry.add(session);
    for (const observer of features.observers) observer.online?.(session);
    session.mux.once('close', () => {
      for (const observer of features.observers) observer.offline?.(session);
    });
    const fields = { hostname, tokenId: session.tokenId, clientAddress: remote };
    this.options.log(`agent online: ${hostname} from ${remote}`, fields);
    session.mux.once('close', (reason: string) => this.options.log(`agent offline: ${hostname} (${reason})`, { ...fields, reason }));
  }

  private refuse(ws: AgentSocket, code: RefusalCode, message: string): void {
    counters.agentSession(code.replace(/-/g, '_'));
    this.send(ws, { type: 'refused', code, message });
    const closeCode = {
      unauthorized: CloseCode.Unauthorized,
      'hostname-taken': CloseCode.HostnameTaken,
      'bad-request': CloseCode.BadRequest,
      'version-mismatch': CloseCode.VersionMismatch,
      'limit-reached': CloseCode.LimitReached,
      'rate-limited': CloseCode.RateLimited,
    }[code];
    ws.close(closeCode, message.slice(0, 120));
  }

  private send(ws: AgentSocket, message: RelayToAgent): void {
    ws.send(JSON.stringify(message));
  }

  close(): void {
    for (const socket of this.sockets) socket.terminate();
  }
}
