// What the request inspector costs per request in one process, without sockets: the fast path's
// tap fed a request as wrk sends it through the relay and the bench origin's 1 KiB answer, over
// 50 keep-alive connections, with a ring of the default size. Three ways: no tap (the loop's own
// cost), the tap with an observer that keeps nothing, and the inspector. Also how many
// young-generation collections (scavenges) and full ones ran, per 10,000 requests.
//   node out/bench/capture-cost.js            (also printed by `npm run bench -- --inspector`)
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import type { HttpRawOpen } from '../protocol/stream-head';
import { Inspector } from '../agent/src/inspect/inspector';
import { RawHttpTap, type RawExchangeObserver, type RawExchangeTap } from '../agent/src/inspect/raw-http-tap';

const CONNECTIONS = 50;
const HOST = 'bench-host-12345.localhost';
const open: HttpRawOpen = { kind: 'http-raw', host: HOST, proto: 'http', remoteAddress: '127.0.0.1', remotePort: 40000 };

const REQUEST = Buffer.from(`GET /small HTTP/1.1\r\nHost: ${HOST}\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: ${HOST}\r\n\r\n`, 'latin1');
const ANSWER = Buffer.concat([
  Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\nDate: Sun, 06 Dec 2026 03:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=120\r\n\r\n', 'latin1'),
  Buffer.alloc(1024, 'a'),
]);

const keepNothing: RawExchangeTap = { requestBody() {}, responseHead() {}, responseBody() {}, end() {} };
const noObserver: RawExchangeObserver = { beginRaw: () => keepNothing };

export type CostMode = 'no tap' | 'tap only' | 'inspector';

export interface CostFigure {
  mode: CostMode;
  nsPerRequest: number;
  scavengesPer10k: number;
  fullGcsPer10k: number;
}

/** Each read is a buffer of its own in the agent (pooled frames): copies, so the tap cannot rely on reuse. */
function reads(count: number, bytes: Buffer): Buffer[] {
  return Array.from({ length: count }, () => Buffer.from(bytes));
}

async function run(mode: CostMode, requests: number): Promise<CostFigure> {
  const observer = mode === 'inspector' ? new Inspector() : noObserver;
  const taps = Array.from({ length: CONNECTIONS }, () => new RawHttpTap(observer, open));
  const requestReads = reads(CONNECTIONS, REQUEST);
  const answerReads = reads(CONNECTIONS, ANSWER);
  let sink = 0;
  const step = (i: number): void => {
    const c = i % CONNECTIONS;
    if (mode === 'no tap') {
      sink += requestReads[c][0] + answerReads[c][0];
      return;
    }
    taps[c].fromVisitor(requestReads[c]);
    taps[c].fromOrigin(answerReads[c]);
  };
  for (let i = 0; i < 20_000; i++) step(i); // warm-up: optimised code, a full ring
  let scavenges = 0;
  let fullGcs = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
      else fullGcs++;
    }
  });
  gcs.observe({ entryTypes: ['gc'] });
  const started = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) step(i);
  const ns = Number(process.hrtime.bigint() - started);
  // GC entries are delivered to observers asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 20));
  gcs.disconnect();
  if (sink < 0) throw new Error('unreachable');
  return { mode, nsPerRequest: ns / requests, scavengesPer10k: (scavenges * 10_000) / requests, fullGcsPer10k: (fullGcs * 10_000) / requests };
}

/** Medians of `rounds` runs of each mode (interleaved), `requests` requests per run. */
export async function measureCaptureCost(rounds = 5, requests = 200_000): Promise<CostFigure[]> {
  const modes: CostMode[] = ['no tap', 'tap only', 'inspector'];
  const runs = new Map<CostMode, CostFigure[]>(modes.map((m) => [m, []]));
  for (let r = 0; r < rounds; r++) for (const mode of modes) runs.get(mode)!.push(await run(mode, requests));
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return modes.map((mode) => {
    const all = runs.get(mode)!;
    return { mode, nsPerRequest: median(all.map((f) => f.nsPerRequest)), scavengesPer10k: median(all.map((f) => f.scavengesPer10k)), fullGcsPer10k: median(all.map((f) => f.fullGcsPer10k)) };
  });
}

export function captureCostLines(figures: CostFigure[]): string[] {
  return figures.map((f) => `${f.mode}: ${(f.nsPerRequest / 1000).toFixed(2)} µs a request, ${f.scavengesPer10k.toFixed(1)} scavenges and ${f.fullGcsPer10k.toFixed(2)} full GCs per 10,000 requests`);
}

if (require.main === module) {
  void measureCaptureCost().then((figures) => {
    for (const line of captureCostLines(figures)) console.log(line);
  });
}
