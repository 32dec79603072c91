import type { Writable } from 'node:stream';

/**
 * Writes `bytes` made of repeated `chunk`s, honouring backpressure (the next write waits for
 * 'drain'), then ends the body if `end` is set; a body held open stays open. `onWrite` sees each
 * piece handed over.
 */
export function writeBody(body: Writable, chunk: Buffer, bytes: number, options: { end?: boolean; onWrite?: (size: number) => void } = {}): void {
  let sent = 0;
  const pump = (): void => {
    while (sent < bytes) {
      const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
      sent += piece.length;
      options.onWrite?.(piece.length);
      if (!body.write(piece)) return void body.once('drain', pump);
    }
    if (options.end) body.end();
  };
  pump();
}
