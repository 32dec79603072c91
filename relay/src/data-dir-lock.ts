import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LogLine } from './logging/relay-logger';

export const LOCK_NAME = 'relay.lock';
/** The holder touches its lock this often; one untouched for LOCK_STALE_MS is a dead relay's. */
export const LOCK_REFRESH_MS = 5_000;
export const LOCK_STALE_MS = 20_000;

export class DataDirLockedError extends Error {
  constructor(dataDir: string, holder: string) {
    super(
      `another portway-relay (${holder}) is using the data directory ${dataDir}. One relay per data directory: ` +
        `stop the other one or give this one its own --data-dir. If it is gone, ${path.join(dataDir, LOCK_NAME)} ` +
        `goes stale within ${LOCK_STALE_MS / 1000} s (or delete it).`,
    );
    this.name = 'DataDirLockedError';
  }
}

interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

/**
 * Holds the data directory for this process: two relays on one directory would overwrite each
 * other's identities and hand one hostname to two agents. The lock file is created exclusively;
 * a lock left by a crashed relay is taken over at once when it names a dead process on this host
 * (or this very pid: a restarted container is pid 1 again), else once it is LOCK_STALE_MS old.
 * Returns the release function.
 */
export function lockDataDir(dataDir: string, log: LogLine): () => void {
  const file = path.join(dataDir, LOCK_NAME);
  const me: LockHolder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(file);
    if (attempt > 0 || (holder && !isStale(file, holder))) {
      throw new DataDirLockedError(dataDir, holder ? `pid ${holder.pid} on ${holder.host} since ${holder.startedAt}` : 'unknown');
    }
    log(`taking over the stale data directory lock ${file}${holder ? ` of pid ${holder.pid} on ${holder.host}` : ''}`);
    fs.rmSync(file, { force: true });
  }
  const refresh = setInterval(() => {
    const now = new Date();
    try {
      fs.utimesSync(file, now, now);
    } catch (err) {
      log(`cannot refresh the data directory lock ${file}: ${(err as Error).message}`);
    }
  }, LOCK_REFRESH_MS);
  refresh.unref();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(refresh);
    if (readHolder(file)?.pid === me.pid) fs.rmSync(file, { force: true });
  };
  process.once('exit', release);
  return release;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof holder.pid === 'number' && typeof holder.host === 'string') return { pid: holder.pid, host: holder.host, startedAt: String(holder.startedAt) };
  } catch {
    // Unreadable or half-written: judged by its age alone.
  }
  return undefined;
}

function isStale(file: string, holder: LockHolder): boolean {
  if (holder.host === os.hostname() && (holder.pid === process.pid || !isAlive(holder.pid))) return true;
  try {
    return Date.now() - fs.statSync(file).mtimeMs > LOCK_STALE_MS;
  } catch {
    return true;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
