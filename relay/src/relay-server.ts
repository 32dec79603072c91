import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ACME_CHALLENGE_PREFIX, type ChallengeAnswer } from '../../common/acme/challenge-store';
import { normalizeHost, serializeResponseHead } from '../../common/http-headers';
import { normalizeAddress } from '../../common/net/client-address';
import { CloseCode, CONNECT_PATH, HEALTH_PATH } from '../../protocol/control';
import { counters } from './admin/counters';
import { AgentGateway } from './agent-gateway';
import { FastConnection } from './fast-http/fast-connection';
import type { ClientPeer, FastRoute } from './fast-http/fast-route';
import type { LogLine } from './logging/relay-logger';
import type { RequestHead } from './fast-http/request-head';
import { HostRouter } from './host-router';
import { forwardRequest, forwardUpgrade, type ForwardContext } from './http-forwarder';
import { IdentityStore } from './identity-store';
import type { RelayOptions } from './options';
import { Pages, sendPage } from './pages';
import { ambiguityOf } from './request-checks';
import { RelaySecurity } from './security/relay-security';
import { publicServerOptions } from './security/security-options';
import { SessionFeatures } from './session-policy';
import { TcpPortsFeature } from './tcp/tcp-ports-feature';
import { TunnelRegistry } from './tunnel-registry';

/** The relay: one HTTP port for agents (WebSocket upgrade on CONNECT_PATH) and for visitors. */
export class RelayServer {
  readonly registry = new TunnelRegistry();
  /** Where features (TCP ports, custom domains, tokens…) hook into agent sessions. */
  readonly features = new SessionFeatures();
  /**
   * ACME HTTP-01 answers for the relay's own names (--acme, tls/relay-acme.ts), asked before any
   * routing; undefined (not ours) lets the request go on, e.g. to an agent running its own ACME.
   */
  ownChallenges: { answer(method: string, url: string): ChallengeAnswer | undefined } | undefined;
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
  /** Full HTTP handling: the relay's own pages, refusals, non-proxy routes, agent WebSockets. */
  private readonly server: http.Server;
  private readonly router: HostRouter;
  private readonly identities: IdentityStore;
  private readonly gateway: AgentGateway;
  /** Allocated TCP ports and their listeners (tcp/). */
  private readonly tcpPorts: TcpPortsFeature;

  constructor(
    private readonly options: RelayOptions,
    private readonly log: LogLine = (line) => console.log(line),
  ) {
    this.router = new HostRouter(options.domain, (host) => this.security.customDomains.tunnelHostnameFor(host));
    this.identities = IdentityStore.open(options.dataDir, options.domain);
    this.security = new RelaySecurity(options, this.registry, this.features, this.identities, log);
    this.tcpPorts = TcpPortsFeature.open(options, log);
    this.tcpPorts.install(this.features);
    this.tcpPorts.limitPortsByToken((tokenId) => this.security.tokens?.list().find((t) => t.id === tokenId));
    const { limits } = options.security;
    this.gateway = new AgentGateway(
      {
        ...options,
        log,
        handshakeTimeoutMs: limits.handshakeTimeoutMs,
        maxStreamsPerSession: limits.maxStreamsPerSession,
        clientAddressOf: (req) => this.security.addresses.clientOf(req),
      },
      this.identities,
      this.registry,
      this.features,
      this.security.admission,
    );
    this.server = http.createServer({ ...publicServerOptions(limits), noDelay: true });
    // Counted when the answer is complete (the fast path counts its own in fast-http/).
    this.server.on('request', (req, res) => res.once('finish', () => counters.response(res.statusCode)));
    this.server.on('request', (req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.security.guard(this.server);
    if (!options.security.proxyProtocol) {
      const hooks = {
        peerOf: (socket: net.Socket): ClientPeer => {
          const address = normalizeAddress(socket.remoteAddress ?? '');
          return { address, port: socket.remotePort ?? 0, trustedProxy: this.security.addresses.trusted.isTrusted(address) };
        },
        route: (head: RequestHead, peer: ClientPeer) => this.fastRoute(head, peer),
        handOff: (socket: net.Socket, unread: Buffer) => {
          this.frontConnections.delete(socket);
          this.server.emit('connection', socket);
          if (unread.length > 0) socket.emit('data', unread);
          socket.resume();
        },
        headersTimeoutMs: limits.headersTimeoutMs,
        keepAliveTimeoutMs: limits.idleTimeoutMs,
        maxHeadSize: limits.maxHeaderSize,
      };
      this.front = net.createServer({ noDelay: true }, (socket) => {
        this.frontConnections.set(socket, new FastConnection(socket, hooks));
        socket.once('close', () => this.frontConnections.delete(socket));
      });
    }
  }

  /**
   * The fast path serves a request when it goes to a connected agent's plain proxy route,
   * from a client that is not a trusted proxy, admitted by the route's firewall; anything
   * else takes the full path (which also answers refusals with their pages).
   */
  private fastRoute(head: RequestHead, peer: ClientPeer): FastRoute | undefined {
    if (!head.target.startsWith('/') || this.draining) return undefined;
    // The relay's own ACME challenges are answered on the full path (onRequest).
    if (this.ownChallenges && head.target.startsWith(ACME_CHALLENGE_PREFIX)) return undefined;
    const host = normalizeHost(head.host);
    const target = this.router.route(host);
    if (target.kind !== 'tunnel') return undefined;
    const session = this.registry.get(target.hostname);
    const route = session?.routes.httpRoute(host);
    if (!session || !route?.proxy || session.atStreamLimit) return undefined;
    if (peer.trustedProxy || !route.firewall.allows(peer.address)) return undefined;
    return { session, host, key: host, hostRewrite: route.proxy.hostRewrite, clientAddress: peer.address, clientPort: peer.port, proto: 'http' };
  }

  async listen(): Promise<AddressInfo> {
    await this.security.open();
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
    this.gateway.close();
    this.security.close();
    this.tcpPorts.close();
    for (const session of this.registry.all()) session.close(1001, 'relay shutting down');
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

  /** Serves a connection whose TLS the HTTPS port terminated exactly like one on the HTTP port. */
  serveDecryptedConnection(socket: Duplex): void {
    this.server.emit('connection', socket);
  }

  /** Whether an agent identity holds this hostname, online or not. */
  isKnownHostname(hostname: string): boolean {
    return this.identities.ownerOf(hostname) !== undefined;
  }

  private context(req: http.IncomingMessage, host: string, hostname: string): ForwardContext | undefined {
    const session = this.registry.get(hostname);
    if (!session) return undefined;
    // A socket the HTTPS port decrypted (serveDecryptedConnection) is a TLSSocket: encrypted.
    const socketProto = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
    const { addresses } = this.security;
    return { session, host, clientAddress: addresses.clientOf(req), forwardedFor: addresses.forwardedFor(req), proto: addresses.protoOf(req, socketProto) };
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const ambiguity = ambiguityOf(req);
    if (ambiguity) {
      res.shouldKeepAlive = false;
      return Pages.badRequest(res, `Refused: ${ambiguity}.`);
    }
    const challenge = this.ownChallenges?.answer(req.method ?? 'GET', req.url ?? '/');
    if (challenge) return void res.writeHead(challenge.status, challenge.headers).end(challenge.body);
    const host = normalizeHost(req.headers.host);
    const target = this.router.route(host);
    if (target.kind === 'relay') return this.serveOwnEndpoint(req, res);
    if (target.kind === 'unknown') return Pages.unknownHost(res, host);
    if (this.draining) {
      res.shouldKeepAlive = false;
      return Pages.relayDraining(res);
    }
    const ctx = this.context(req, host, target.hostname);
    if (ctx) {
      // The route's firewall, checked here for every request (also each one on a kept-alive connection).
      if (ctx.session.routes.httpFirewall(host)?.allows(ctx.clientAddress) === false) {
        counters.firewallRefusals++;
        return Pages.forbidden(res, host);
      }
      if (ctx.session.atStreamLimit) return Pages.tunnelBusy(res, host);
      return forwardRequest(req, res, ctx);
    }
    if (this.identities.ownerOf(target.hostname)) return Pages.tunnelOffline(res, target.hostname);
    return Pages.unknownHost(res, host);
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
    const refuse = (status: number, message: string): void => {
      socket.end(serializeResponseHead(status, message, ['Content-Length', '0', 'Connection', 'close']));
    };
    if (ambiguityOf(req)) return refuse(400, 'Bad Request');
    const host = normalizeHost(req.headers.host);
    const target = this.router.route(host);
    if (this.draining) return refuse(503, 'Service Unavailable');
    if (target.kind === 'relay') {
      if ((req.url ?? '').split('?')[0] === CONNECT_PATH) return this.gateway.handleUpgrade(req, socket, head);
      return refuse(404, 'Not Found');
    }
    if (target.kind === 'unknown') return refuse(404, 'Not Found');
    const ctx = this.context(req, host, target.hostname);
    if (!ctx) return refuse(this.identities.ownerOf(target.hostname) ? 502 : 404, 'Tunnel Offline');
    if (ctx.session.routes.httpFirewall(host)?.allows(ctx.clientAddress) === false) {
      counters.firewallRefusals++;
      return refuse(403, 'Forbidden');
    }
    if (ctx.session.atStreamLimit) return refuse(503, 'Tunnel Busy');
    forwardUpgrade(req, socket, head, ctx);
  }
}
