import { spawn, execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const RELAY_BIN = path.join(ROOT, 'relay', 'bin', 'portway-relay.js');
export const AGENT_BIN = path.join(ROOT, 'agent', 'bin', 'portway.js');

export function tempDir(prefix = 'portway-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** How long a process may take to say it is ready: generous, since CI shares its cores. */
const STARTUP_TIMEOUT_MS = 60_000;

/** A child process whose output lines can be awaited. */
export class RunningProcess {
  readonly lines: string[] = [];
  private waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void; from: number }[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    const onText = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line === '') continue;
        this.lines.push(line);
        if (process.env.PORTWAY_TEST_VERBOSE) process.stderr.write(`[${child.pid}] ${line}\n`);
      }
      this.check();
    };
    child.stdout?.on('data', onText);
    child.stderr?.on('data', onText);
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      for (let i = w.from; i < this.lines.length; i++) {
        const m = this.lines[i].match(w.pattern);
        if (m) {
          w.resolve(m);
          return false;
        }
      }
      return true;
    });
  }

  /** Resolves with the first line (at or after line index `from`) matching pattern. */
  waitFor(pattern: RegExp, timeoutMs = 15_000, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${this.lines.join('\n')}`)), timeoutMs);
      this.waiters.push({
        pattern,
        from,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      this.check();
    });
  }

  /**
   * Resolves with the first line matching `ready`, or kills the process and rejects if it exits
   * first or stays silent for timeoutMs. A process that failed to start is nobody's to stop: left
   * running, its pipes would keep the test file alive forever.
   */
  async startedOrKilled(name: string, ready: RegExp, timeoutMs = STARTUP_TIMEOUT_MS): Promise<RegExpMatchArray> {
    try {
      return await Promise.race([
        this.waitFor(ready, timeoutMs),
        this.exited.then((code) => {
          throw new Error(`${name} exited with ${code}:\n${this.lines.join('\n')}`);
        }),
      ]);
    } catch (err) {
      await this.stop('SIGKILL');
      throw err;
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }
}

export interface RelayProcess extends RunningProcess {
  port: number;
  url: string;
  dataDir: string;
  /** The HTTPS port, when started with `httpsPort`. */
  httpsPort?: number;
}

export async function startRelay(options: { dataDir?: string; port?: number; authKey?: string; extraArgs?: string[]; env?: Record<string, string>; httpsPort?: number } = {}): Promise<RelayProcess> {
  const dataDir = options.dataDir ?? tempDir('portway-relay-');
  const args = [RELAY_BIN, '--domain', 'localhost', '--host', '127.0.0.1', '--port', String(options.port ?? 0), '--data-dir', dataDir];
  if (options.authKey) args.push('--auth-key', options.authKey);
  if (options.httpsPort !== undefined) args.push('--https-port', String(options.httpsPort));
  args.push(...(options.extraArgs ?? []));
  const proc = new RunningProcess(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } }));
  // [::]: a dual-stack relay (extraArgs --host ::)
  const match = await proc.startedOrKilled('relay', /listening on http:\/\/(?:127\.0\.0\.1|\[::\]):(\d+)/);
  const port = Number(match[1]);
  const httpsPort = options.httpsPort === undefined ? undefined : Number((await proc.startedOrKilled('relay', /listening on https:\/\/127\.0\.0\.1:(\d+)/))[1]);
  return Object.assign(proc, { port, url: `http://127.0.0.1:${port}`, dataDir, httpsPort });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one `portway` command to completion. */
export function portway(configPath: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AGENT_BIN, '--config', configPath, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `portway start` in the background. */
export function startAgent(configPath: string): RunningProcess {
  return new RunningProcess(spawn(process.execPath, [AGENT_BIN, '--config', configPath, 'start'], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A configured agent: config file written by a real `portway configure`. */
export async function configureAgent(relay: { url: string }, options: { token?: string; hostname?: string } = {}): Promise<{ configPath: string; hostname: string }> {
  const configPath = path.join(tempDir('portway-agent-'), 'config.json');
  const args = ['configure', '--relay', relay.url];
  if (options.token) args.push('--token', options.token);
  if (options.hostname) args.push('--hostname', options.hostname);
  const result = await portway(configPath, args);
  if (result.code !== 0) throw new Error(`configure failed (${result.code}): ${result.stderr}${result.stdout}`);
  const hostname = result.stdout.match(/Hostname: (\S+)/)?.[1];
  if (!hostname) throw new Error(`configure printed no hostname: ${result.stdout}`);
  return { configPath, hostname };
}
