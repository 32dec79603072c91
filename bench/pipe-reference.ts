// The "two Node pipes" reference: the same origin measured through two plain TCP forwarders in
// series (bench/pipe-hop.ts), in the same run as the direct and tunnel figures. It separates the
// price of two extra Node processes on this machine (wake-ups, loopback copies) from the price of
// Portway's own work.
import * as path from 'node:path';
import { withMallocTunables } from '../common/malloc-tunables';
import { Child, spawnNode, stopChild } from './children';
import { DownloadSeries, downloadSeries } from './download';
import { CONNECTION_LEVELS, Level, errorNote } from './measure';
import { cpuSeconds } from './process-stats';
import { WrkResult, runWrk } from './wrk';

export interface PipeLevel extends WrkResult {
  /** CPU seconds of the two pipe processes together during this run (utime + stime, /proc). */
  pipesCpuSeconds: number;
}

export interface PipeReference {
  levels: Record<Level, PipeLevel>;
  download: DownloadSeries;
}

/** CPU of the two pipe processes per request served: the reference for relay + agent's CPU per request. */
export function pipesMicrosPerRequest(level: PipeLevel): number {
  return (level.pipesCpuSeconds / level.requests) * 1e6;
}

export interface RunningPipes {
  /** Where visitors connect: hop 2, which forwards to hop 1, which forwards to the origin. */
  port: number;
  /** CPU seconds both hops have used since they started. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

async function startHop(name: string, targetPort: number): Promise<{ child: Child; port: number }> {
  const child = spawnNode(name, path.join(__dirname, 'pipe-hop.js'), [String(targetPort)], withMallocTunables({ ...process.env })); // as relay and agent run
  const match = await child.waitFor(/pipe hop listening on 127\.0\.0\.1:(\d+)/, 10_000);
  return { child, port: Number(match[1]) };
}

/** Two hops in series in front of the origin: hop 2 → hop 1 → origin. */
export async function startPipes(originPort: number): Promise<RunningPipes> {
  const hops: Child[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(hops.map((hop) => stopChild(hop.proc))); // idle hops must not share the CPU with what follows
  };
  try {
    const hop1 = await startHop('pipe-hop-1', originPort);
    hops.push(hop1.child);
    const hop2 = await startHop('pipe-hop-2', hop1.port);
    hops.push(hop2.child);
    return { port: hop2.port, cpuSeconds: () => cpuSeconds(hop1.child.pid) + cpuSeconds(hop2.child.pid), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One wrk run of small requests through the pipes, with the pipes' CPU during it. */
export async function measurePipeLevel(pipes: RunningPipes, connections: number, durationSec: number): Promise<PipeLevel> {
  const before = pipes.cpuSeconds();
  const wrk = await runWrk({ url: `http://127.0.0.1:${pipes.port}/small`, connections, durationSec });
  return { ...wrk, pipesCpuSeconds: pipes.cpuSeconds() - before };
}

/** Small requests at each connection level and the 100 MiB download, through hop 2 → hop 1 → origin. */
export async function measurePipeReference(opts: { originPort: number; durationSec: number; log: (line: string) => void }): Promise<PipeReference> {
  const pipes = await startPipes(opts.originPort);
  try {
    const levels = {} as Record<Level, PipeLevel>;
    for (const c of CONNECTION_LEVELS) {
      opts.log(`two Node pipes: small requests, ${c} connection(s), ${opts.durationSec} s`);
      levels[c] = await measurePipeLevel(pipes, c, opts.durationSec);
      opts.log(`  ${levels[c].reqPerSec.toFixed(0)} req/s, pipes CPU ${pipesMicrosPerRequest(levels[c]).toFixed(1)} µs per request${errorNote(levels[c])}`);
    }
    opts.log('two Node pipes: single-stream download of 100 MiB');
    const download = await downloadSeries({ port: pipes.port });
    opts.log(`  ${download.medianMbPerSec.toFixed(0)} MB/s (median of ${download.runs.length})`);
    return { levels, download };
  } finally {
    await pipes.stop();
  }
}
