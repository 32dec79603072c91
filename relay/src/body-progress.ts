import type { IncomingMessage } from 'node:http';

/**
 * Calls `onStall` once if the request body sends nothing for `timeoutMs` (a slow upload holding a
 * stream of its tunnel). Time while the body is paused (the stream towards the agent is full) does
 * not count: that wait is not the visitor's. Stops once the body is complete or the request closes.
 * One timer per body, put back (refresh) on each chunk.
 */
export function watchBodyProgress(req: IncomingMessage, timeoutMs: number, onStall: () => void): void {
  if (req.complete) return;
  const timer = setTimeout(() => {
    if (req.complete || req.destroyed) return;
    if (req.isPaused()) return void timer.refresh();
    onStall();
  }, timeoutMs);
  timer.unref();
  const progress = () => timer.refresh();
  req.on('data', progress);
  const stop = () => {
    clearTimeout(timer);
    req.off('data', progress);
  };
  req.once('end', stop);
  req.once('close', stop);
}
