import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type { TlsOpen } from '../../../protocol/stream-head';
import { withForwardedFacts } from './forwarded-facts';
import type { HttpHandler } from './http-exchange';
import { NodeHttpFront } from './node-http-front';

/** A handshake not finished in this long is dropped. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;

/**
 * TLS at the agent: decrypts a `tls` stream from the relay with the route's certificate and
 * serves the HTTP inside it with the route's handler, through one local (never listening)
 * Node HTTP server. The client's address comes from the stream head, not the socket.
 */
export class TlsTerminator {
  private readonly front: NodeHttpFront;
  private readonly live = new Set<tls.TLSSocket>();

  /** @param handlerFor the current HTTP handler of a route, looked up per request (routes change live). */
  constructor(handlerFor: (domain: string) => HttpHandler) {
    this.front = new NodeHttpFront(handlerFor, withForwardedFacts);
  }

  serve(stream: Duplex, open: TlsOpen, secureContext: tls.SecureContext): void {
    const socket = new tls.TLSSocket(stream, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
    this.live.add(socket);
    const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
    socket.once('secure', () => clearTimeout(timer));
    socket.once('close', () => {
      clearTimeout(timer);
      this.live.delete(socket);
      stream.destroy();
    });
    stream.on('error', () => socket.destroy());
    this.front.serve(socket, { proto: 'https', host: open.serverName, remoteAddress: open.remoteAddress, remotePort: open.remotePort });
  }

  close(): void {
    for (const socket of this.live) socket.destroy();
    this.live.clear();
  }
}
