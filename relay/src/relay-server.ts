import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { normalizeHost, serializeResponseHead } from '../../common/http-headers';
import { normalizeAddress } from '../../common/net/client-address';
import { CONNECT_PATH, HEALTH_PATH } from '../../protocol/control';
import { AgentGateway } from './agent-gateway';
import { FastConnection } from './fast-http/fast-connection';
import type { FastRoute } from './fast-http/fast-route';
import type { RequestHead } from './fast-http/request-head';
import { HostRouter } from './host-router';
import { forwardRequest, forwardUpgrade, type ForwardContext } from './http-forwarder';
import { IdentityStore } from './identity-store';
import type { RelayOptions } from './options';
import { Pages, sendPage } from './pages';
import { ambiguityOf } from './request-checks';
import { SessionFeatures } from './session-policy';
import { TcpPortsFeature } from './tcp/tcp-ports-feature';
import { TunnelRegistry } from './tunnel-registry';

/** Header and idle limits of the public port (see README, security). */
export const PUBLIC_LIMITS = {
  maxHeaderSize: 16 * 1024,
  headersTimeoutMs: 20_000,
  keepAliveTimeoutMs: 10_000,
  requestTimeoutMs: 0, // long uploads and streams are fine; slow headers are not (headersTimeout)
} as const;

/** The relay: one HTTP port for agents (WebSocket upgrade on CONNECT_PATH) and for visitors. */
export class RelayServer {
  readonly registry = new TunnelRegistry();
  /** Where features (TCP ports, custom domains, tokens…) hook into agent sessions. */
  readonly features = new SessionFeatures();
  /** The public port: visitor connections start on the fast path (fast-http/). */
  private readonly front: net.Server;
  private readonly frontConnections = new Set<net.Socket>();
  /** Full HTTP handling (never listens itself): the relay's own pages, refusals, non-proxy routes, agent WebSockets. */
  private readonly server: http.Server;
  private readonly router: HostRouter;
  private readonly identities: IdentityStore;
  private readonly gateway: AgentGateway;
  /** Allocated TCP ports and their listeners (tcp/). */
  private readonly tcpPorts: TcpPortsFeature;

  constructor(
    private readonly options: RelayOptions,
    private readonly log: (line: string) => void = (line) => console.log(line),
  ) {
    this.router = new HostRouter(options.domain);
    this.identities = IdentityStore.open(options.dataDir, options.domain);
    this.tcpPorts = TcpPortsFeature.open(options, log);
    this.tcpPorts.install(this.features);
    this.gateway = new AgentGateway({ ...options, log }, this.identities, this.registry, this.features);
    this.server = http.createServer({
      maxHeaderSize: PUBLIC_LIMITS.maxHeaderSize,
      headersTimeout: PUBLIC_LIMITS.headersTimeoutMs,
      requestTimeout: PUBLIC_LIMITS.requestTimeoutMs,
      keepAliveTimeout: PUBLIC_LIMITS.keepAliveTimeoutMs,
      noDelay: true,
    });
    this.server.on('request', (req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    const hooks = {
      route: (head: RequestHead, socket: net.Socket) => this.fastRoute(head, socket),
      handOff: (socket: net.Socket, unread: Buffer) => {
        this.frontConnections.delete(socket);
        this.server.emit('connection', socket);
        if (unread.length > 0) socket.emit('data', unread);
        socket.resume();
      },
      headersTimeoutMs: PUBLIC_LIMITS.headersTimeoutMs,
      keepAliveTimeoutMs: PUBLIC_LIMITS.keepAliveTimeoutMs,
    };
    this.front = net.createServer({ noDelay: true }, (socket) => {
      this.frontConnections.add(socket);
      socket.once('close', () => this.frontConnections.delete(socket));
      new FastConnection(socket, hooks);
    });
  }

  /**
   * The fast path serves a request when it goes to a connected agent's plain proxy route
   * and the route's firewall admits the client; everything else takes the full path.
   */
  private fastRoute(head: RequestHead, socket: net.Socket): FastRoute | undefined {
    if (!head.target.startsWith('/')) return undefined;
    const host = normalizeHost(head.host);
    const target = this.router.route(host);
    if (target.kind !== 'tunnel') return undefined;
    const session = this.registry.get(target.hostname);
    const route = session?.routes.httpRoute(host);
    if (!session || !route?.proxy) return undefined;
    const clientAddress = normalizeAddress(socket.remoteAddress ?? '');
    if (!route.firewall.allows(clientAddress)) return undefined;
    return { session, host, key: host, hostRewrite: route.proxy.hostRewrite, clientAddress, clientPort: socket.remotePort ?? 0, proto: 'http' };
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.front.once('error', reject);
      this.front.listen(this.options.port, this.options.host, () => {
        this.front.off('error', reject);
        resolve();
      });
    });
    // The full HTTP server only receives handed-off sockets; 'listening' starts its header timeouts.
    this.server.emit('listening');
    return this.front.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.gateway.close();
    this.tcpPorts.close();
    for (const session of this.registry.all()) session.close(1001, 'relay shutting down');
    for (const socket of this.frontConnections) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.front.close(() => resolve()));
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
    const proto = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
    return { session, host, clientAddress: normalizeAddress(req.socket.remoteAddress ?? ''), proto };
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const ambiguity = ambiguityOf(req);
    if (ambiguity) {
      res.shouldKeepAlive = false;
      return Pages.badRequest(res, `Refused: ${ambiguity}.`);
    }
    const host = normalizeHost(req.headers.host);
    const target = this.router.route(host);
    if (target.kind === 'relay') return this.serveOwnEndpoint(req, res);
    if (target.kind === 'unknown') return Pages.unknownHost(res, host);
    const ctx = this.context(req, host, target.hostname);
    if (ctx) {
      // The route's firewall, checked here for every request (also each one on a kept-alive connection).
      if (ctx.session.routes.httpFirewall(host)?.allows(ctx.clientAddress) === false) return Pages.forbidden(res, host);
      return forwardRequest(req, res, ctx);
    }
    if (this.identities.ownerOf(target.hostname)) return Pages.tunnelOffline(res, target.hostname);
    return Pages.unknownHost(res, host);
  }

  private serveOwnEndpoint(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === HEALTH_PATH || path === '/healthz') {
      const body = JSON.stringify({ status: 'ok', domain: this.options.domain, tunnels: this.registry.size });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
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
    if (target.kind === 'relay') {
      if ((req.url ?? '').split('?')[0] === CONNECT_PATH) return this.gateway.handleUpgrade(req, socket, head);
      return refuse(404, 'Not Found');
    }
    if (target.kind === 'unknown') return refuse(404, 'Not Found');
    const ctx = this.context(req, host, target.hostname);
    if (!ctx) return refuse(this.identities.ownerOf(target.hostname) ? 502 : 404, 'Tunnel Offline');
    if (ctx.session.routes.httpFirewall(host)?.allows(ctx.clientAddress) === false) return refuse(403, 'Forbidden');
    forwardUpgrade(req, socket, head, ctx);
  }
}
