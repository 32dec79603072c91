import type { Duplex } from 'node:stream';

/**
 * Joins a socket and a stream into one byte pipe, both ways. An error on either side aborts
 * both; a clean end of one direction only half-closes the other (pipe), and when the socket
 * closes, or the stream closes before its peer finished sending, the other side goes too.
 * Every raw forward (TCP ports, TLS pass-through, raw HTTP) uses this one rule.
 */
export function splice(socket: Duplex, stream: Duplex, onError?: (err: Error) => void): void {
  socket.on('error', (err) => {
    onError?.(err);
    stream.destroy();
  });
  stream.on('error', () => socket.destroy());
  socket.on('close', () => stream.destroy()); // a no-op after a clean close of both directions
  stream.on('close', () => {
    if (!stream.readableEnded) socket.destroy();
  });
  socket.pipe(stream);
  stream.pipe(socket);
}
