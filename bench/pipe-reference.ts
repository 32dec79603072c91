// The "two Node pipes" reference: the same origin measured through two plain TCP forwarders in
// series (bench/pipe-hop.ts), in the same run as the direct and tunnel figures. It separates the
// price of two extra Node processes on this machine (wake-ups, loopback copies) from the price of
// Portway's own work.
import * as path from 'node:path';
import { withMallocTunables } from '../common/malloc-tunables';
import { Child, spawnNode, stopChild } from './children';
import { DownloadSeries, downloadSeries } from './download';
import { CONNECTION_LEVELS, Level, errorNote } from './measure';
import { WrkResult, runWrk } from './wrk';

export interface PipeReference {
  levels: Record<Level, WrkResult>;
  download: DownloadSeries;
}

async function startHop(name: string, targetPort: number): Promise<{ child: Child; port: number }> {
  const child = spawnNode(name, path.join(__dirname, 'pipe-hop.js'), [String(targetPort)], withMallocTunables({ ...process.env })); // as relay and agent run
  const match = await child.waitFor(/pipe hop listening on 127\.0\.0\.1:(\d+)/, 10_000);
  return { child, port: Number(match[1]) };
}

/** Small requests at each connection level and the 100 MiB download, through hop 2 → hop 1 → origin. */
export async function measurePipeReference(opts: { originPort: number; durationSec: number; log: (line: string) => void }): Promise<PipeReference> {
  const hops: Child[] = [];
  try {
    const hop1 = await startHop('pipe-hop-1', opts.originPort);
    hops.push(hop1.child);
    const hop2 = await startHop('pipe-hop-2', hop1.port);
    hops.push(hop2.child);
    const url = `http://127.0.0.1:${hop2.port}/small`;
    const levels = {} as Record<Level, WrkResult>;
    for (const c of CONNECTION_LEVELS) {
      opts.log(`two Node pipes: small requests, ${c} connection(s), ${opts.durationSec} s`);
      levels[c] = await runWrk({ url, connections: c, durationSec: opts.durationSec });
      opts.log(`  ${levels[c].reqPerSec.toFixed(0)} req/s${errorNote(levels[c])}`);
    }
    opts.log('two Node pipes: single-stream download of 100 MiB');
    const download = await downloadSeries({ port: hop2.port });
    opts.log(`  ${download.medianMbPerSec.toFixed(0)} MB/s (median of ${download.runs.length})`);
    return { levels, download };
  } finally {
    await Promise.all(hops.map((hop) => stopChild(hop.proc))); // idle hops must not share the CPU with what follows
  }
}
