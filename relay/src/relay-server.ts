import * as http from 'node:http';
import * as net from 'node:net';
import { isIP, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ACME_CHALLENGE_PREFIX, type OwnChallengeAnswers } from '../../common/acme/challenge-store';
import { normalizeHost } from '../../common/http-headers';
import { normalizeAddress } from '../../common/net/client-address';
import { CloseCode, CONNECT_PATH, HEALTH_PATH } from '../../protocol/control';
import { counters } from './admin/counters';
import { AgentGateway } from './agent-gateway';
import type { SharedState } from './cluster/relay-cluster';
import type { TunnelsElsewhere } from './cluster/tunnels-elsewhere';
import type { AgentSession } from './agent-session';
import { FastConnection, type FastConnectionHooks } from './fast-http/fast-connection';
import type { ClientPeer, FastRoute } from './fast-http/fast-route';
import type { LogLine } from './logging/relay-logger';
import type { RequestHead } from './fast-http/request-head';
import { HostRouter } from './host-router';
import { forwardRequest, forwardUpgrade, type ForwardContext } from './http-forwarder';
import { reclaimIdleIdentities } from './identity-reclaim';
import { IdentityStore } from './identity-store';
import type { RelayOptions } from './options';
import { Pages, refuseUpgrade, sendPage, UPGRADE_REFUSALS } from './pages';
import { MAX_LINGER_MS, type LingerEnd } from './visitor-linger';
import { admit, type Admission, type AdmissionRules } from './request-admission';
import { judgeRequest } from './request-rules';
import type { ClientFacts } from './security/client-address-resolver';
import { RelaySecurity } from './security/relay-security';
import { publicServerOptions } from './security/security-options';
import { SessionFeatures } from './session-policy';
import { TcpPortsFeature } from './tcp/tcp-ports-feature';
import type { FrontedRelay } from './tls/https-front';
import { TunnelRegistry } from './tunnel-registry';

/** The relay: one HTTP port for agents (WebSocket upgrade on CONNECT_PATH) and for visitors. */
export class RelayServer implements FrontedRelay {
  readonly registry = new TunnelRegistry();
  /** Where features (TCP ports, custom domains, tokens…) hook into agent sessions. */
  readonly features = new SessionFeatures();
  /**
   * ACME HTTP-01 answers for the relay's own names (--acme, tls/relay-acme.ts), asked before any
   * routing; undefined (not ours) lets the request go on, e.g. to an agent running its own ACME.
   */
  ownChallenges: OwnChallengeAnswers | undefined;
  /** With --redis: where a visitor goes whose tunnel this relay does not hold (cluster/). */
  elsewhere: TunnelsElsewhere | undefined;
  /** Client addresses, agent admission (tokens), custom domains (see security/relay-security.ts). */
  readonly security: RelaySecurity;
  /**
   * The public port: visitor connections start on the fast path (fast-http/), which hands
   * anything it does not serve to `server`. With PROXY protocol on, `server` listens itself.
   */
  private readonly front: net.Server | undefined;
  /** Visitor connections on the fast path (told to finish up when the relay drains). */
  private readonly frontConnections = new Map<net.Socket, FastConnection>();
  /** Set on SIGTERM (admin/graceful-drain.ts): health says 503, new requests and agents are refused. */
  private draining = false;
  /** The fast path's hooks for visitor connections (another relay's pooled connections route their own way). */
  private readonly fastHooks: FastConnectionHooks;
  /** Full HTTP handling: the relay's own pages, refusals, non-proxy routes, agent WebSockets. */
  private readonly server: http.Server;
  private readonly router: HostRouter;
  private readonly identities: IdentityStore;
  private readonly gateway: AgentGateway;
  /** Allocated TCP ports and their listeners (tcp/). */
  private readonly tcpPorts: TcpPortsFeature;
  /** What admit() needs to decide every entry point's requests. */
  private readonly rules: AdmissionRules;
  private stopReclaiming: () => void = () => undefined;
  /** Told when a visitor connection closes after its last answer (a debug line), if debug logging is on. */
  private readonly released: ((how: LingerEnd) => void) | undefined;

  constructor(
    private readonly options: RelayOptions,
    private readonly log: LogLine = (line) => console.log(line),
    /** With --redis, tokens and identities live in Redis (cluster/relay-cluster.ts). */
    private readonly shared?: SharedState,
    /** Per-connection lines (--log-level debug); undefined when off, so nothing is built for them. */
    debug?: LogLine,
  ) {
    this.released = debug && ((how) => debug(`visitor connection released after its last answer (${how})`));
    this.router = new HostRouter(options.domain, (host) => this.customDomainTunnel(host));
    this.identities = IdentityStore.open(options.dataDir, options.domain, { backend: shared?.identities });
    this.rules = { router: this.router, registry: this.registry, isKnownHostname: (hostname) => this.isKnownHostname(hostname) };
    this.security = new RelaySecurity(options, this.registry, this.features, this.identities, log);
    this.tcpPorts = TcpPortsFeature.open(options, log, shared?.ports);
    this.tcpPorts.install(this.features);
    this.tcpPorts.limitPortsByToken((tokenId) => this.security.tokens?.list().find((t) => t.id === tokenId));
    const { limits } = options.security;
    this.gateway = new AgentGateway(
      {
        ...options,
        log,
        handshakeTimeoutMs: limits.handshakeTimeoutMs,
        maxStreamsPerSession: limits.maxStreamsPerSession,
        addressSharePercent: limits.addressSharePercent,
        maxUnsentBytesPerSession: limits.maxUnsentMiBPerSession * 1024 * 1024,
        unsentGraceMs: limits.unsentGraceMs,
        maxBufferedBytesPerSession: limits.maxBufferedMiBPerSession * 1024 * 1024,
        clientAddressOf: (req) => this.security.addresses.clientOf(req),
      },
      this.identities,
      this.registry,
      this.features,
      this.security.admission,
    );
    this.server = http.createServer({ ...publicServerOptions(limits), noDelay: true });
    // A visitor that half-closes right after its request (`printf … | nc -N`) is answered, then
    // the connection closes, as on the fast path. Node's default drops its request; this property
    // (set by Node's own constructor, not in @types/node) keeps it until the answer is out.
    (this.server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // Counted when the answer is complete (the fast path counts its own in fast-http/).
    this.server.on('request', (_req, res) => res.once('finish', () => counters.response(res.statusCode)));
    this.server.on('request', (req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    // Node closes a CONNECT without a word unless someone listens: answer it (judge refuses it, 501).
    this.server.on('connect', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.security.guard(this.server);
    this.fastHooks = {
      peerOf: (socket: net.Socket): ClientPeer => {
        const address = normalizeAddress(socket.remoteAddress ?? '');
        return { address, port: socket.remotePort ?? 0, trustedProxy: this.security.addresses.trusted.isTrusted(address) };
      },
      route: (head: RequestHead, peer: ClientPeer, heldRoute: string | undefined) => this.fastRoute(head, peer, heldRoute),
      handOff: (socket: net.Socket, unread: Buffer) => {
        this.frontConnections.delete(socket);
        this.server.emit('connection', socket);
        if (unread.length > 0) socket.emit('data', unread);
        socket.resume();
      },
      headersTimeoutMs: limits.headersTimeoutMs,
      keepAliveTimeoutMs: limits.idleTimeoutMs,
      bodyTimeoutMs: limits.bodyTimeoutMs,
      maxHeadSize: limits.maxHeaderSize,
      released: this.released,
      badResponse: (host, reason) => log(`refused a response from the origin behind ${host}: ${reason}`, { host, reason }),
    };
    if (!options.security.proxyProtocol) {
      this.front = net.createServer({ noDelay: true }, (socket) => this.serveFast(socket, this.fastHooks));
    }
  }

  private serveFast(socket: net.Socket, hooks: FastConnectionHooks): void {
    this.frontConnections.set(socket, new FastConnection(socket, hooks));
    socket.once('close', () => this.frontConnections.delete(socket));
  }

  /**
   * Serves a pooled connection from another relay of the cluster (cluster/cluster-port.ts) on the
   * fast path: each request names its visitor in X-Forwarded-For (CLUSTER_CLIENT_HEADER), which
   * only the sending relay sets; `unread` are the bytes after the preamble.
   */
  serveFromPeer(socket: net.Socket, unread: Buffer): void {
    this.serveFast(socket, { ...this.fastHooks, route: (head: RequestHead, _peer, heldRoute) => this.fastRouteFromPeer(head, heldRoute) });
    if (unread.length > 0) socket.emit('data', unread);
    socket.resume();
  }

  /** A forwarded request's visitor is the one address the sending relay put in X-Forwarded-For. */
  private fastRouteFromPeer(head: RequestHead, heldRoute: string | undefined): FastRoute | undefined {
    const named = head.forwarding.xForwardedFor;
    if (named === undefined || isIP(named) === 0) return undefined; // the full path refuses it
    const clientAddress = normalizeAddress(named);
    return this.fastRouteFor(head, clientAddress, clientAddress, 'http', 0, heldRoute);
  }

  /**
   * The fast path serves a request when it goes to a connected agent's plain proxy route, admitted
   * by the route's firewall for the real client (a trusted proxy's forwarding headers are read
   * exactly as on the full path); anything else takes the full path (which also answers refusals
   * with their pages).
   */
  private fastRoute(head: RequestHead, peer: ClientPeer, heldRoute: string | undefined): FastRoute | undefined {
    if (!peer.trustedProxy) return this.fastRouteFor(head, peer.address, peer.address, 'http', peer.port, heldRoute); // what factsFor says for an untrusted peer
    const { clientAddress, forwardedFor, proto } = this.security.addresses.factsFor(peer.address, head.forwarding, 'http');
    return this.fastRouteFor(head, clientAddress, forwardedFor, proto, peer.port, heldRoute);
  }

  /** `heldRoute`: the route key of the stream the connection already holds, if any (no new stream is needed for it). */
  private fastRouteFor(head: RequestHead, clientAddress: string, forwardedFor: string, proto: ClientFacts['proto'], clientPort: number, heldRoute?: string): FastRoute | undefined {
    // A draining relay answers on the full path, which refuses.
    if (!head.target.startsWith('/') || this.draining) return undefined;
    // The relay's own ACME challenges are answered on the full path (onRequest).
    if (this.ownChallenges && head.target.startsWith(ACME_CHALLENGE_PREFIX)) return undefined;
    const host = normalizeHost(head.host);
    const admission = admit(this.rules, host, clientAddress, heldRoute === host);
    if (admission.kind !== 'admitted' || !admission.route?.proxy) return undefined;
    // One stream per host: a proxy's kept-alive connection carries many visitors, each named in its own head.
    return { session: admission.session, host, key: host, hostRewrite: admission.route.proxy.hostRewrite, clientAddress, forwardedFor, clientPort, proto };
  }

  async listen(): Promise<AddressInfo> {
    await this.security.open(this.shared);
    // After the domain store loaded: identities holding custom domains, TCP ports or a session are kept.
    const online = (identityId: string) => this.registry.all().some((session) => session.identityId === identityId);
    const keep = (identityId: string) => online(identityId) || this.security.customDomains.holdsDomains(identityId) || this.tcpPorts.holdsPorts(identityId);
    this.stopReclaiming = reclaimIdleIdentities(this.identities, this.options.security.identityIdleDays, keep, this.log);
    const listener = this.front ?? this.server;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.options.port, this.options.host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    // A server that only receives handed-off sockets starts its header timeouts on 'listening'.
    if (this.front) this.server.emit('listening');
    return listener.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.stopReclaiming();
    this.gateway.close();
    this.security.close();
    this.tcpPorts.close();
    for (const session of this.registry.all()) session.close(1001, 'relay shutting down');
    // One turn for the streams' losses to reach their visitors (a reset where an answer was cut)
    // before the remaining connections close.
    await new Promise((resolve) => setImmediate(resolve));
    for (const socket of this.frontConnections.keys()) socket.destroy();
    this.server.closeAllConnections();
    const listener = this.front ?? this.server;
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }

  /**
   * Starts a graceful drain: health answers 503, new requests and agent sessions are refused,
   * idle visitor connections close and busy ones close after their current response. Resolves
   * once no stream is in flight on any session (the caller bounds the wait).
   */
  drain(): Promise<void> {
    this.draining = true;
    this.tcpPorts.stopAccepting();
    for (const connection of this.frontConnections.values()) connection.finishUp();
    return Promise.all(this.registry.all().map((session) => session.whenIdle())).then(() => undefined);
  }

  /**
   * Tells every agent the relay is going away (a GoAway, then a WebSocket close) and resolves once
   * their sockets have closed, or after timeoutMs: close() alone would cut them (1006).
   */
  goAway(timeoutMs: number): Promise<void> {
    const closed = this.registry.all().map(
      (session) =>
        new Promise<void>((resolve) => {
          session.ws.once('close', () => resolve());
          session.close(CloseCode.GoingAway, 'relay restarting');
        }),
    );
    const bound = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    return Promise.race([Promise.all(closed).then(() => undefined), bound]);
  }

  /**
   * Serves a connection whose TLS the HTTPS port terminated exactly like one on the HTTP port;
   * `forwardedFor`: the visitor of a connection another relay of the cluster forwarded.
   */
  serveDecryptedConnection(socket: Duplex, forwardedFor?: { address: string }): void {
    if (forwardedFor) this.security.addresses.setProxySource(socket as net.Socket, forwardedFor.address);
    this.server.emit('connection', socket);
  }

  customDomainTunnel(host: string): string | undefined {
    return this.security.customDomains.tunnelHostnameFor(host);
  }

  /** Whether an agent identity holds this hostname, online or not. */
  isKnownHostname(hostname: string): boolean {
    return this.identities.ownerOf(hostname) !== undefined;
  }

  /** Checks the request's framing, then admits it; the entry points differ only in how they answer. */
  private judge(req: http.IncomingMessage): { ok: false; status: 400 | 501; reason: string } | { ok: true; host: string; clientAddress: string; admission: Admission } {
    const verdict = judgeRequest({ method: req.method ?? '', target: req.url ?? '', version: req.httpVersion, rawHeaders: req.rawHeaders });
    if (!verdict.ok) return verdict;
    const host = normalizeHost(req.headers.host);
    const clientAddress = this.security.addresses.clientOf(req);
    const admission = admit(this.rules, host, clientAddress);
    // Counted here, once per refused request: the fast path steps aside for these (see fastRoute).
    if (admission.kind === 'forbidden') counters.firewallRefusals++;
    return { ok: true, host, clientAddress, admission };
  }

  private forwardContext(req: http.IncomingMessage, session: AgentSession, host: string, clientAddress: string): ForwardContext {
    // A socket the HTTPS port decrypted (serveDecryptedConnection) is a TLSSocket: encrypted.
    const socketProto = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
    const { forwardedFor, proto } = this.security.addresses.factsOfRequest(req, socketProto);
    const { bodyTimeoutMs, idleTimeoutMs } = this.options.security.limits;
    return { session, host, clientAddress, forwardedFor, proto, bodyTimeoutMs, idleTimeoutMs, released: this.released };
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const judged = this.judge(req);
    if (!judged.ok) {
      res.shouldKeepAlive = false;
      if (judged.status === 501) return Pages.notImplemented(res, `Refused: ${judged.reason}.`);
      return Pages.badRequest(res, `Refused: ${judged.reason}.`);
    }
    const { host, clientAddress, admission } = judged;
    const challenge = this.ownChallenges?.answer(req.method ?? 'GET', req.url ?? '/');
    if (challenge) return void res.writeHead(challenge.status, challenge.headers).end(challenge.body);
    if (admission.kind === 'relay') return this.serveOwnEndpoint(req, res);
    if (this.draining) {
      res.shouldKeepAlive = false;
      return Pages.relayDraining(res);
    }
    if (admission.kind !== 'admitted') {
      const refuse = () => Pages.refusal(res, admission, host);
      // No local tunnel for this host: another relay of the cluster may hold it.
      if (this.elsewhere && (admission.kind === 'offline' || admission.kind === 'unassigned')) {
        return this.elsewhere.forwardRequest(req, res, { hostname: admission.hostname, host, clientAddress }, refuse);
      }
      return refuse();
    }
    forwardRequest(req, res, this.forwardContext(req, admission.session, host, clientAddress));
  }

  private serveOwnEndpoint(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === HEALTH_PATH || path === '/healthz') {
      const body = JSON.stringify({ status: this.draining ? 'draining' : 'ok', domain: this.options.domain, tunnels: this.registry.size });
      res.writeHead(this.draining ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return void res.end(body);
    }
    if (path === '/') {
      return sendPage(res, 200, 'Portway relay', `This relay serves tunnels under ${this.options.domain}. Connect an agent with \`portway configure --relay <this URL>\`.`);
    }
    return Pages.unknownHost(res, normalizeHost(req.headers.host));
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    // A refusal is the last answer: the connection then ends within the linger, at most the idle timeout.
    const lingerMs = Math.min(MAX_LINGER_MS, this.options.security.limits.idleTimeoutMs);
    const judged = this.judge(req);
    if (!judged.ok) return judged.status === 501 ? refuseUpgrade(socket, 501, 'Not Implemented', lingerMs, this.released) : refuseUpgrade(socket, 400, 'Bad Request', lingerMs, this.released);
    if (this.draining) return refuseUpgrade(socket, 503, 'Service Unavailable', lingerMs, this.released);
    const { host, clientAddress, admission } = judged;
    if (admission.kind === 'relay' && (req.url ?? '').split('?')[0] === CONNECT_PATH) return this.gateway.handleUpgrade(req, socket, head);
    if (admission.kind === 'admitted') return forwardUpgrade(req, socket, head, this.forwardContext(req, admission.session, host, clientAddress));
    const refuse = () => refuseUpgrade(socket, ...UPGRADE_REFUSALS[admission.kind], lingerMs, this.released);
    if (this.elsewhere && (admission.kind === 'offline' || admission.kind === 'unassigned')) {
      return this.elsewhere.forwardUpgrade(req, socket, head, { hostname: admission.hostname, host, clientAddress }, refuse);
    }
    refuse();
  }
}
