import { UsageError } from '../config/usage-error';

/** `HOST:PORT`, `[v6]:PORT` or a bare `PORT` (on 127.0.0.1) for the inspector's local page; port 0 picks a free one. */
export function parseListenAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+))?:?(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`--inspect takes HOST:PORT, e.g. 127.0.0.1:4040 (got "${value}")`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}
