import type { Duplex } from 'node:stream';

/** The longest a visitor may go on sending after its last answer (never longer than the idle timeout). */
export const MAX_LINGER_MS = 5_000;

/** How a visitor connection ended after its last answer: its own close, or the linger running out. */
export type LingerEnd = 'visitor closed' | 'linger ended';

/**
 * After a visitor's last answer has been written (with or after `end()`): reads and drops what it
 * still sends, and destroys the socket once it closes its side or `lingerMs` pass. Destroying at
 * once with unread bytes would reset the connection and could lose the answer; waiting for the
 * visitor alone would hold the socket (paused, half-closed) for as long as it likes.
 * `onReleased` hears how it ended, once the socket is closed (debug log, tests).
 */
export function lingerThenClose(socket: Duplex, lingerMs: number, onReleased?: (how: LingerEnd) => void): void {
  if (socket.destroyed) return;
  let how: LingerEnd = 'visitor closed';
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  socket.once('end', () => socket.destroy());
  socket.resume();
  const linger = setTimeout(() => {
    how = 'linger ended';
    socket.destroy();
  }, lingerMs);
  linger.unref();
  socket.once('close', () => {
    clearTimeout(linger);
    onReleased?.(how);
  });
}

/**
 * A raw connection whose other side has ended: destroyed once the visitor sends nothing for
 * `idleMs` (each byte it sends puts the timer back), so a half-open visitor cannot hold it forever.
 */
export function closeWhenIdle(socket: Duplex, idleMs: number): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), idleMs);
  timer.unref();
  socket.on('data', () => timer.refresh());
  socket.once('close', () => clearTimeout(timer));
}
