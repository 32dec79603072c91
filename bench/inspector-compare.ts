// `npm run bench -- --inspector [ROUNDS]`: what the request inspector costs the data path. One
// origin, then ROUNDS rounds of the same tunnel (relay + agent) started twice, inspector off and
// on (`portway start --inspect`), in alternating order so drift on a shared machine hits both;
// each start measures small requests at c50 and single-stream 100 MiB downloads. Medians per mode.
// Then, in this process, the tap and capture's own cost per request (capture-cost.ts).
import * as path from 'node:path';
import { captureCostLines, measureCaptureCost } from './capture-cost';
import { spawnNode } from './children';
import { cpuSeconds } from './process-stats';
import { downloadSeries } from './download';
import { HOL_CONNECTIONS, errorNote } from './measure';
import { startTunnel } from './tunnel';
import { prepareWrk, requireWrk, runWrk } from './wrk';

export interface InspectorCompareArgs {
  rounds: number;
  durationSec: number;
}

type Mode = 'off' | 'on';

interface Figures {
  c50ReqPerSec: number;
  /** The agent's CPU time (user + system) per request during the c50 run: less swayed by other load than req/s. */
  agentCpuUsPerRequest: number;
  downloadMbPerSec: number;
}

const WARMUP_SECONDS = 2;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function measureMode(root: string, dir: string, originPort: number, mode: Mode, durationSec: number, log: (line: string) => void): Promise<Figures> {
  const tunnel = await startTunnel({ root, tmpDir: dir, origin1Port: originPort, origin2Port: originPort, agentArgs: mode === 'on' ? ['--inspect', '127.0.0.1:0'] : [] });
  try {
    const url = `http://127.0.0.1:${tunnel.relayPort}/small`;
    await runWrk({ url, host: tunnel.hostname, connections: HOL_CONNECTIONS, durationSec: WARMUP_SECONDS });
    const cpuBefore = cpuSeconds(tunnel.agent.pid);
    const wrk = await runWrk({ url, host: tunnel.hostname, connections: HOL_CONNECTIONS, durationSec });
    const agentCpuUsPerRequest = ((cpuSeconds(tunnel.agent.pid) - cpuBefore) * 1e6) / Math.max(1, wrk.requests);
    const download = await downloadSeries({ port: tunnel.relayPort, host: tunnel.hostname });
    log(`  inspector ${mode}: c50 ${wrk.reqPerSec.toFixed(0)} req/s${errorNote(wrk)} (agent CPU ${agentCpuUsPerRequest.toFixed(1)} µs a request), download ${download.medianMbPerSec.toFixed(0)} MB/s`);
    if (wrk.okRequests === 0) throw new Error(`inspector ${mode}: no request succeeded at c50${errorNote(wrk)}`);
    return { c50ReqPerSec: wrk.reqPerSec, agentCpuUsPerRequest, downloadMbPerSec: download.medianMbPerSec };
  } finally {
    await tunnel.stop();
  }
}

function percentChange(on: number, off: number): string {
  const change = (on / off - 1) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(1)}%`;
}

export async function runInspectorCompare(opts: { root: string; tmpDir: string; args: InspectorCompareArgs; log: (line: string) => void }): Promise<{ markdown: string; ok: boolean }> {
  const { root, tmpDir, args, log } = opts;
  requireWrk();
  prepareWrk(tmpDir);
  const origin = spawnNode('origin', path.join(__dirname, 'origin.js'), [], process.env);
  const originPort = Number((await origin.waitFor(/origin listening on 127\.0\.0\.1:(\d+)/, 10_000))[1]);
  const figures: Record<Mode, Figures[]> = { off: [], on: [] };
  for (let round = 1; round <= args.rounds; round++) {
    const order: Mode[] = round % 2 ? ['off', 'on'] : ['on', 'off'];
    log(`round ${round} of ${args.rounds} (${order.join(', then ')})`);
    for (const mode of order) figures[mode].push(await measureMode(root, path.join(tmpDir, `round-${round}-${mode}`), originPort, mode, args.durationSec, log));
  }
  const c50 = { off: median(figures.off.map((f) => f.c50ReqPerSec)), on: median(figures.on.map((f) => f.c50ReqPerSec)) };
  const download = { off: median(figures.off.map((f) => f.downloadMbPerSec)), on: median(figures.on.map((f) => f.downloadMbPerSec)) };
  const agentCpu = { off: median(figures.off.map((f) => f.agentCpuUsPerRequest)), on: median(figures.on.map((f) => f.agentCpuUsPerRequest)) };
  // Paired per round (off and on started back to back): less exposed to drift than the medians.
  const paired = (pick: (f: Figures) => number): string => percentChange(median(figures.on.map((f, i) => pick(f) / pick(figures.off[i]))), 1);
  const rows = (mode: Mode): string => figures[mode].map((f) => `${f.c50ReqPerSec.toFixed(0)} / ${f.downloadMbPerSec.toFixed(0)}`).join(', ');
  log('in-process capture cost (bench/capture-cost.ts)');
  const cost = captureCostLines(await measureCaptureCost());
  for (const line of cost) log(`  ${line}`);
  const markdown = [
    `# Request inspector: data-path cost`,
    ``,
    `${args.rounds} rounds, inspector off and on alternately (a fresh relay + agent each), ${args.durationSec} s of wrk at c50 after ${WARMUP_SECONDS} s warm-up, then the median of repeated 100 MiB downloads.`,
    ``,
    `| figure (median of ${args.rounds}) | inspector off | inspector on | on vs off | on vs off, median of rounds |`,
    `|---|---:|---:|---:|---:|`,
    `| small requests, c50 (req/s) | ${c50.off.toFixed(0)} | ${c50.on.toFixed(0)} | ${percentChange(c50.on, c50.off)} | ${paired((f) => f.c50ReqPerSec)} |`,
    `| agent CPU per request at c50 (µs) | ${agentCpu.off.toFixed(1)} | ${agentCpu.on.toFixed(1)} | ${percentChange(agentCpu.on, agentCpu.off)} | ${paired((f) => f.agentCpuUsPerRequest)} |`,
    `| single-stream download (MB/s) | ${download.off.toFixed(0)} | ${download.on.toFixed(0)} | ${percentChange(download.on, download.off)} | ${paired((f) => f.downloadMbPerSec)} |`,
    ``,
    `Each round, c50 req/s / download MB/s: off ${rows('off')}; on ${rows('on')}.`,
    ``,
    `In one process (bench/capture-cost.ts: the tap fed a relayed wrk request and the origin's 1 KiB answer over 50 connections, ring of 500; medians of 5 runs of 200,000 requests):`,
    ``,
    ...cost.map((line) => `- ${line}`),
    ``,
  ].join('\n');
  return { markdown, ok: true };
}
