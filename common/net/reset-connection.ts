import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Ends a connection with a TCP reset (RST) instead of a FIN. A FIN after part of a body that is
 * delimited by the connection's close looks like the whole body; a reset tells the peer (curl:
 * exit 56, a browser: a network error) that what it got was cut. Sockets that are not plain TCP
 * (TLS, a test's Duplex) can only be destroyed.
 */
export function resetConnection(connection: Duplex): void {
  if (connection.destroyed) return;
  const socket = connection as Partial<Socket>;
  if (connection.writableEnded) {
    // After end() the kernel refuses a reset (libuv: EINVAL) and Node then never closes the
    // handle (the process could not exit). Destroy with an error instead, so this side's
    // error handlers still treat the connection as cut.
    connection.destroy(Object.assign(new Error('connection reset after its end'), { code: 'ECONNRESET' }));
    return;
  }
  if (typeof socket.resetAndDestroy === 'function') {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // Not a TCP handle (a TLSSocket): fall through to destroy.
    }
  }
  connection.destroy();
}
