/**
 * `--proxy-protocol`: every connection must come from a trusted proxy and start with a PROXY v1/v2
 * header naming the real client. Anything else (an untrusted peer, a missing or malformed header,
 * a header that does not arrive within the timeout) is closed before a byte reaches the HTTP parser.
 *
 * It wraps the server's own 'connection' listeners: the header is read in paused mode, the bytes
 * after it are unshifted, and only then does the HTTP server see the socket.
 */
import type { Server, Socket } from 'node:net';
import { ProxyHeaderReader } from './proxy-protocol';
import type { TrustedProxies } from './trusted-proxies';

export interface ProxyProtocolGateOptions {
  trusted: TrustedProxies;
  /** A PROXY header must be complete within this. */
  timeoutMs: number;
  /** The client the header named (absent for LOCAL / UNKNOWN: the proxy's own connection). */
  onSource: (socket: Socket, address: string) => void;
  log?: (line: string) => void;
}

export function requireProxyProtocol(server: Server, options: ProxyProtocolGateOptions): void {
  const handlers = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    // A connection the HTTPS port already decrypted (and vetted) is handed over as is.
    if ((socket as { encrypted?: boolean }).encrypted === true) {
      for (const handler of handlers) handler.call(server, socket);
      return;
    }
    socket.on('error', () => socket.destroy());
    if (!options.trusted.isTrusted(socket.remoteAddress ?? '')) {
      options.log?.(`closed a connection from ${socket.remoteAddress}: not a trusted proxy (--proxy-protocol)`);
      return void socket.destroy();
    }
    const reader = new ProxyHeaderReader();
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs);
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        const result = reader.push(chunk);
        if (result.status === 'need-more') continue;
        socket.off('readable', onReadable);
        clearTimeout(timer);
        if (result.status === 'error') {
          options.log?.(`closed a connection from ${socket.remoteAddress}: ${result.message}`);
          return void socket.destroy();
        }
        if (result.source) options.onSource(socket, result.source.address);
        if (result.rest.length > 0) socket.unshift(result.rest);
        for (const handler of handlers) handler.call(server, socket);
        return;
      }
    };
    socket.on('readable', onReadable);
    socket.once('close', () => clearTimeout(timer));
  });
}
