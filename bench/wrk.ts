// Load generator: Debian's wrk, one thread, N keep-alive connections, for a fixed duration.
// A small Lua script sets the Host header (to reach a tunnel through the relay's one port) and
// prints the summary and latency percentiles in one line we can parse exactly.
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { track } from './children';
import { reapedChildrenCpuSeconds } from './process-stats';

const WRK = 'wrk';
const RESULT_TAG = 'PORTWAY_WRK';

const LUA = `
local host = os.getenv("PORTWAY_BENCH_HOST")
if host and host ~= "" then wrk.headers["Host"] = host end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("${RESULT_TAG} requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

export interface WrkErrors {
  connect: number;
  read: number;
  write: number;
  status: number; // responses with status >= 400
  timeout: number;
}

export interface WrkResult {
  connections: number;
  requests: number; // responses received, any status
  okRequests: number; // responses with status < 400
  durationSec: number;
  reqPerSec: number; // okRequests / durationSec: a fast error page must not count as throughput
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: WrkErrors;
  wrkCpuSeconds: number;
}

export interface WrkRun {
  url: string; // always http://127.0.0.1:PORT/PATH
  host?: string; // Host header; omitted = wrk's default (from the URL)
  connections: number;
  durationSec: number;
}

/** Fails early, with the fix, when wrk is not installed. */
export function requireWrk(): void {
  const probe = spawnSync(WRK, ['-v'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error('wrk not found: the benchmark uses it as its load generator. Install it with `apt-get install wrk`.');
  }
}

let scriptPath: string | undefined;

/** Writes the Lua script once into `dir` (the run's temp dir). */
export function prepareWrk(dir: string): void {
  scriptPath = path.join(dir, 'portway-bench.lua');
  fs.writeFileSync(scriptPath, LUA);
}

export function parseWrkOutput(stdout: string): Omit<WrkResult, 'connections' | 'wrkCpuSeconds'> {
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_TAG));
  if (!line) throw new Error(`wrk printed no ${RESULT_TAG} line:\n${stdout}`);
  const field = (name: string): number => {
    const match = line.match(new RegExp(`\\b${name}=(\\d+)`));
    if (!match) throw new Error(`wrk result has no ${name}: ${line}`);
    return Number(match[1]);
  };
  const errors: WrkErrors = {
    connect: field('connect'),
    read: field('read'),
    write: field('write'),
    status: field('status'),
    timeout: field('timeout'),
  };
  const requests = field('requests');
  const durationSec = field('duration_us') / 1e6;
  const okRequests = requests - errors.status;
  return {
    requests,
    okRequests,
    durationSec,
    reqPerSec: okRequests / durationSec,
    p50Ms: field('p50_us') / 1000,
    p99Ms: field('p99_us') / 1000,
    maxMs: field('max_us') / 1000,
    errors,
  };
}

/**
 * Runs wrk once. wrkCpuSeconds comes from this process's reaped-children CPU, so it also counts
 * any other child (e.g. a curl download) that exits during the run.
 */
export function runWrk(run: WrkRun): Promise<WrkResult> {
  if (!scriptPath) throw new Error('prepareWrk() first');
  const args = ['-t1', `-c${run.connections}`, `-d${run.durationSec}s`, '--timeout', '10s', '-s', scriptPath, run.url];
  const env = { ...process.env, PORTWAY_BENCH_HOST: run.host ?? '' };
  const cpuBefore = reapedChildrenCpuSeconds();
  return new Promise((resolve, reject) => {
    const child = execFile(WRK, args, { env, encoding: 'utf8', timeout: (run.durationSec + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`wrk ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
        return;
      }
      try {
        const parsed = parseWrkOutput(stdout);
        resolve({ ...parsed, connections: run.connections, wrkCpuSeconds: reapedChildrenCpuSeconds() - cpuBefore });
      } catch (parseErr) {
        reject(parseErr);
      }
    });
    track(child);
  });
}
