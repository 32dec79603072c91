import type { Socket } from 'node:net';

export interface EndOrResetHandlers {
  /** The peer closed cleanly (FIN): everything it sent has arrived. */
  end(): void;
  /** The peer reset the connection (RST): what it sent may be cut. */
  reset(): void;
}

/**
 * Tells a peer's clean close from its reset. libuv reports an RST that arrives after a partial
 * read as EOF, so 'end' alone cannot be trusted: a body cut by a reset would pass on as whole.
 * On 'end' an empty write probes the connection: the kernel fails it (ECONNRESET/EPIPE) after a
 * reset and accepts it after a FIN. The socket must be opened with `allowHalfOpen: true` (else
 * Node ends it before the probe); a socket whose own side already ended cannot be probed and
 * counts as a clean end.
 */
export function onEndOrReset(socket: Socket, handlers: EndOrResetHandlers): void {
  socket.on('end', () => {
    if (socket.writableEnded || socket.destroyed) return handlers.end();
    socket.write(Buffer.alloc(0), (err) => (err ? handlers.reset() : handlers.end()));
  });
}
