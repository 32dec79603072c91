// Long-running child processes of the benchmark (origins, relay, agent): spawned here, waited on
// by an output line (an event, never a sleep), and all stopped at the end, on error or on SIGINT.
import { ChildProcess, spawn } from 'node:child_process';

const TAIL_CHARS = 4000;

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Last few KiB of stdout+stderr, for error messages. */
  tail(): string;
  /** Resolves with the match of the first output line matching `pattern`, or rejects on timeout/exit. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

const running = new Set<ChildProcess>();

/** Also stop this short-lived child (wrk, curl) if the benchmark is interrupted while it runs. */
export function track(proc: ChildProcess): void {
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
}

/** Spawns `node [nodeArgs] script args` with piped output; the child counts as running until it exits. */
export function spawnNode(name: string, script: string, args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Child {
  return spawnChild(name, process.execPath, [...nodeArgs, script, ...args], env);
}

/** Spawns `command args` with piped output; the child counts as running until it exits. */
export function spawnChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`${name}: spawn failed`);
  track(proc);

  let tail = '';
  const lineWatchers = new Set<(line: string) => void>();
  for (const stream of [proc.stdout, proc.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (text: string) => {
      tail = (tail + text).slice(-TAIL_CHARS);
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) for (const watch of [...lineWatchers]) watch(line);
    });
  }

  const waitFor = (pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        lineWatchers.delete(onLine);
        proc.off('exit', onExit);
      };
      const onLine = (line: string): void => {
        const match = line.match(pattern);
        if (match) {
          done();
          resolve(match);
        }
      };
      const onExit = (code: number | null, signal: string | null): void => {
        done();
        reject(new Error(`${name} exited (${signal ?? code}) before printing ${pattern}\n${tail}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms\n${tail}`));
      }, timeoutMs);
      lineWatchers.add(onLine);
      proc.on('exit', onExit);
    });

  return { name, proc, pid: proc.pid, tail: () => tail, waitFor };
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
export function stopChild(proc: ChildProcess, graceMs = 2000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.stdin?.end();
    proc.kill('SIGTERM');
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((proc) => stopChild(proc)));
}

/** Last resort on process exit (synchronous: no waiting possible there). */
process.on('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});
