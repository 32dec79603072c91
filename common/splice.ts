import type { Duplex } from 'node:stream';
import { resetConnection } from './net/reset-connection';

export interface SpliceOptions {
  /**
   * The socket delivers its bytes and its end to the stream by itself (a socket made by
   * connectFramed, mux/framed-reader.ts), so only the other direction is piped.
   */
  socketReadsItself?: boolean;
  /**
   * Once either side has ended (a half-close), both are destroyed when neither carries a byte for
   * this long: a peer that never ends its side cannot hold the other open (the relay's idle
   * timeout for a visitor's connection). Unset: a half-open pipe waits for as long as its peers do.
   */
  halfClosedIdleMs?: number;
}

/**
 * Joins a socket and a stream into one byte pipe, both ways. An error on either side aborts
 * both; a clean end of one direction only half-closes the other (pipe); a side that closes
 * without having ended takes the other down too; a reset (error) passes on as a reset.
 * Every raw forward (TCP ports, TLS pass-through, raw HTTP) uses this one rule.
 */
export function splice(socket: Duplex, stream: Duplex, onError?: (err: Error) => void, options: SpliceOptions = {}): void {
  socket.on('error', (err) => {
    onError?.(err);
    stream.destroy();
  });
  stream.on('error', () => resetConnection(socket)); // a reset passes on as a reset
  // A side that closed after a clean end lets the pipe finish the other (its buffered bytes
  // still go out); one that closed abruptly takes the other down at once.
  socket.on('close', () => {
    if (!socket.readableEnded) stream.destroy();
    else stream.resume(); // nowhere to deliver what still comes: drain it so the stream can finish
  });
  stream.on('close', () => {
    if (!stream.readableEnded) socket.destroy();
  });
  if (!options.socketReadsItself) socket.pipe(stream);
  stream.pipe(socket);
  if (options.halfClosedIdleMs !== undefined) closeWhenIdleAfterHalfClose(socket, stream, options.halfClosedIdleMs);
}

function closeWhenIdleAfterHalfClose(socket: Duplex, stream: Duplex, idleMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  const refresh = () => timer?.refresh();
  const arm = () => {
    if (timer || socket.destroyed) return;
    timer = setTimeout(() => {
      socket.destroy();
      stream.destroy();
    }, idleMs);
    timer.unref();
    socket.on('data', refresh);
    stream.on('data', refresh);
  };
  socket.once('end', arm);
  stream.once('end', arm);
  socket.once('close', () => clearTimeout(timer));
}
