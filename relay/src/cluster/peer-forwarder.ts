/**
 * Forwards a visitor whose request reached a relay that does not hold the tunnel to the relay that
 * does, over that relay's cluster port. Requests go over a pool of kept-alive connections per peer
 * (an http.Agent whose connections open with the pooled preamble): the connection setup is paid
 * once, not per request, and each request names its visitor in CLUSTER_CLIENT_HEADER. An upgrade
 * (WebSocket) gets its own connection, with the visitor in its preamble, and becomes a raw byte
 * pipe after the head. Bodies stream both ways with backpressure (pipe), so keep-alive, SSE, large
 * uploads and downloads pass unchanged.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { withoutHopByHop } from '../../../common/http-headers';
import { Pages, refuseUpgrade, sendPage } from '../pages';
import { CLUSTER_CLIENT_HEADER, encodePooledPreamble, encodePreamble } from './cluster-preamble';
import { encodePeer } from './lease-record';
import type { Lease, PeerAddress } from './lease-record';
import type { ElsewhereTarget, TunnelsElsewhere } from './tunnels-elsewhere';

/** Forwarding headers are the sending relay's business: the preamble or CLUSTER_CLIENT_HEADER carries the client instead. */
const FORWARDING_HEADERS: ReadonlySet<string> = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-real-ip', CLUSTER_CLIENT_HEADER]);
/**
 * A pooled connection idle this long is closed by this side: well before the owner's idle timeout
 * (--idle-timeout-ms, 10 s by default), so a request never meets a connection the owner is closing.
 */
const POOLED_IDLE_MS = 2_000;
/** Idle connections kept per peer; busy ones are not limited (each is a visitor's request in flight). */
const POOLED_IDLE_PER_PEER = 64;

export interface PeerForwarderHooks {
  /** The relay holding a tunnel (rejects while Redis is unreachable). */
  holderOf(hostname: string): Promise<Lease | undefined>;
  /** The holder did not answer: look it up again next time. */
  unreachable(hostname: string): void;
  /** This relay's id: a lease of ours without a local session is no one's. */
  relayId: string;
  /** Requests that came from another relay are never forwarded again (no loops). */
  isFromPeer(socket: object): boolean;
  proof: Buffer;
  /** Counts forwarded requests (metrics). */
  forwarded(): void;
  log: (line: string) => void;
}

export class PeerForwarder implements TunnelsElsewhere {
  /** Kept-alive connections per peer (host:port). */
  private readonly pools = new Map<string, http.Agent>();

  constructor(private readonly hooks: PeerForwarderHooks) {}

  /** Closes the pooled connections. */
  close(): void {
    for (const pool of this.pools.values()) pool.destroy();
    this.pools.clear();
  }

  forwardRequest(req: http.IncomingMessage, res: http.ServerResponse, target: ElsewhereTarget, notHeld: () => void): void {
    this.findHolder(req, target, notHeld, () => sendPage(res, 503, 'Cluster unavailable', 'This relay cannot reach the cluster’s shared state right now; try again in a few seconds.'), (peer) => {
      const headers = withoutHopByHop(req.rawHeaders, false, FORWARDING_HEADERS);
      // The body keeps its framing: chunked stays chunked, a length stays a length.
      if (req.headers['transfer-encoding'] !== undefined) headers.push('Transfer-Encoding', 'chunked');
      headers.push(CLUSTER_CLIENT_HEADER, target.clientAddress);
      const upstream = http.request({ agent: this.poolFor(peer), host: peer.host, port: peer.port, method: req.method, path: req.url, headers });
      upstream.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage ?? '', withoutHopByHop(answer.rawHeaders));
        answer.pipe(res);
      });
      upstream.on('error', () => {
        this.hooks.unreachable(target.hostname);
        if (res.headersSent) res.destroy();
        else Pages.tunnelLost(res, target.host);
      });
      // The visitor went away first: stop the owner's side too.
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      req.pipe(upstream);
    });
  }

  forwardUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, target: ElsewhereTarget, notHeld: () => void): void {
    this.findHolder(req, target, notHeld, () => refuseUpgrade(socket, 503, 'Cluster Unavailable'), (peer) => {
      const upstream = this.connect(peer, target, req);
      const closeBoth = () => {
        upstream.destroy();
        socket.destroy();
      };
      upstream.on('error', closeBoth);
      socket.on('error', closeBoth);
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
      const headers = withoutHopByHop(req.rawHeaders, true, FORWARDING_HEADERS);
      let text = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1\r\n`;
      for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
      upstream.write(`${text}\r\n`, 'latin1');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
  }

  /** Looks the tunnel's lease up; `notHeld` when no other relay holds it, `unavailable` when Redis does not answer. */
  private findHolder(req: http.IncomingMessage, target: ElsewhereTarget, notHeld: () => void, unavailable: () => void, forward: (peer: PeerAddress) => void): void {
    if (this.hooks.isFromPeer(req.socket)) return notHeld();
    this.hooks.holderOf(target.hostname).then(
      (lease) => {
        if (!lease || lease.relayId === this.hooks.relayId) return notHeld();
        this.hooks.forwarded();
        forward(lease.peer);
      },
      (err: Error) => {
        this.hooks.log(`cluster: cannot look up ${target.hostname} in Redis: ${err.message}`);
        unavailable();
      },
    );
  }

  private poolFor(peer: PeerAddress): http.Agent {
    const key = encodePeer(peer);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new http.Agent({ keepAlive: true, maxFreeSockets: POOLED_IDLE_PER_PEER, timeout: POOLED_IDLE_MS, scheduling: 'lifo' });
      const proof = this.hooks.proof;
      pool.createConnection = () => {
        const socket = net.connect({ host: peer.host, port: peer.port });
        socket.setNoDelay(true);
        socket.write(encodePooledPreamble(proof), 'latin1');
        return socket;
      };
      this.pools.set(key, pool);
    }
    return pool;
  }

  private connect(peer: PeerAddress, target: ElsewhereTarget, req: http.IncomingMessage): net.Socket {
    const socket = net.connect({ host: peer.host, port: peer.port });
    socket.setNoDelay(true);
    socket.write(encodePreamble(this.hooks.proof, { address: target.clientAddress, port: req.socket.remotePort ?? 0 }), 'latin1');
    return socket;
  }
}
