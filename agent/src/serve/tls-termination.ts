import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type { TlsOpen } from '../../../protocol/stream-head';
import { withForwardedFacts } from './forwarded-facts';
import type { HttpHandler } from './http-exchange';
import { adaptNodeExchange } from './node-http-adapter';
import { adaptNodeUpgrade } from './node-upgrade-exchange';

/** A handshake not finished in this long is dropped. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;

/**
 * TLS at the agent: decrypts a `tls` stream from the relay with the route's certificate and
 * serves the HTTP inside it with the route's handler, through one local (never listening)
 * Node HTTP server. The client's address comes from the stream head, not the socket.
 */
export class TlsTerminator {
  private readonly server = http.createServer();
  private readonly heads = new WeakMap<object, TlsOpen>();
  private readonly live = new Set<tls.TLSSocket>();

  /** @param handlerFor the current HTTP handler of a route, looked up per request (routes change live). */
  constructor(private readonly handlerFor: (domain: string) => HttpHandler) {
    this.server.on('request', (req, res) => {
      const open = this.heads.get(req.socket);
      if (!open) return void res.destroy();
      const { request, response } = adaptNodeExchange(req, res, this.exchangeOptions(open));
      this.handlerFor(open.serverName)(withForwardedFacts(request), response);
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const open = this.heads.get(req.socket);
      if (!open) return void socket.destroy();
      const { request, response } = adaptNodeUpgrade(req, socket, head, this.exchangeOptions(open));
      this.handlerFor(open.serverName)(withForwardedFacts(request), response);
    });
    this.server.on('clientError', (_err, socket: Duplex) => socket.destroy());
  }

  serve(stream: Duplex, open: TlsOpen, secureContext: tls.SecureContext): void {
    const socket = new tls.TLSSocket(stream, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
    this.heads.set(socket, open);
    this.live.add(socket);
    const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
    socket.once('secure', () => clearTimeout(timer));
    socket.once('close', () => {
      clearTimeout(timer);
      this.live.delete(socket);
      stream.destroy();
    });
    stream.on('error', () => socket.destroy());
    this.server.emit('connection', socket);
  }

  close(): void {
    for (const socket of this.live) socket.destroy();
    this.live.clear();
  }

  private exchangeOptions(open: TlsOpen) {
    return { proto: 'https' as const, host: open.serverName, remoteAddress: open.remoteAddress, remotePort: open.remotePort };
  }
}
