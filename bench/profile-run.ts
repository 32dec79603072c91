// `npm run bench -- --profile DIR --workload c1|c50|c500|download`: one workload alone through the
// tunnel, with relay and agent writing V8 CPU profiles (node --cpu-prof) under DIR/<workload>/, then
// the top functions by self time of each, written as DIR/<workload>.md (bench/profile-summary.ts).
// No warm-up: what the profile shows is the workload and nothing else the bench runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Child } from './children';
import { downloadSeries } from './download';
import { summarizeFile, summaryMarkdown } from './profile-summary';
import { startTunnel } from './tunnel';
import { runWrk } from './wrk';

export const PROFILE_WORKLOADS = ['c1', 'c50', 'c500', 'download'] as const;
export type ProfileWorkload = (typeof PROFILE_WORKLOADS)[number];

export interface ProfileRunOptions {
  root: string;
  tmpDir: string;
  profileDir: string;
  workload: ProfileWorkload;
  durationSec: number;
  startOrigin: (name: string) => Promise<{ child: Child; port: number }>;
  log: (line: string) => void;
}

function newestProfile(dir: string): string {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}: did the process exit cleanly?`);
  const newest = files.map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  return newest;
}

export async function runProfile(opts: ProfileRunOptions): Promise<{ markdown: string; ok: boolean }> {
  const { workload, log } = opts;
  const dir = path.resolve(opts.profileDir, workload);
  fs.rmSync(dir, { recursive: true, force: true });
  const [origin1, origin2] = await Promise.all([opts.startOrigin('origin-1'), opts.startOrigin('origin-2')]);
  const tunnel = await startTunnel({ root: opts.root, tmpDir: opts.tmpDir, origin1Port: origin1.port, origin2Port: origin2.port, profileDir: dir });
  let figure: string;
  try {
    if (workload === 'download') {
      log('profile: single-stream downloads of 100 MiB through the tunnel');
      const series = await downloadSeries({ port: tunnel.relayPort, host: tunnel.hostname });
      figure = `${series.medianMbPerSec.toFixed(0)} MB/s (median of ${series.runs.length} downloads)`;
    } else {
      const connections = Number(workload.slice(1));
      log(`profile: small requests, ${connections} connection(s), ${opts.durationSec} s through the tunnel`);
      const w = await runWrk({ url: `http://127.0.0.1:${tunnel.relayPort}/small`, host: tunnel.hostname, connections, durationSec: opts.durationSec });
      figure = `${w.reqPerSec.toFixed(0)} req/s, p50 ${w.p50Ms.toFixed(3)} ms, p99 ${w.p99Ms.toFixed(3)} ms`;
    }
  } finally {
    await tunnel.stop(); // profiles are written as the processes exit
  }
  log(`profile: ${figure}`);
  const parts = [`## CPU profile: ${workload} through the tunnel (${figure}, under the profiler)`, ''];
  for (const name of ['relay', 'agent']) {
    const file = newestProfile(path.join(dir, name));
    parts.push(summaryMarkdown(`${name}: top 20 functions by self time (${path.relative(opts.profileDir, file)})`, summarizeFile(file)));
  }
  const markdown = parts.join('\n');
  fs.writeFileSync(path.join(opts.profileDir, `${workload}.md`), markdown);
  return { markdown, ok: true };
}
