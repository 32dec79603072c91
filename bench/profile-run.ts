// `npm run bench -- --profile DIR --workload c1|c50|c500|download`: one workload alone through the
// tunnel, with relay and agent writing V8 CPU profiles (node --cpu-prof) under DIR/<workload>/, then
// the top functions by self time of each, written as DIR/<workload>.md (bench/profile-summary.ts).
// No warm-up: what the profile shows is the workload and nothing else the bench runs.
// Without --profile: the same workload after a warm-up, unprofiled, with relay + agent CPU per
// request (or per 100 MiB): a quick A/B figure while tuning, not a substitute for the full run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Child } from './children';
import { cpuSeconds, machineBusySeconds, RssSampler, toMiB, userCpuSeconds, type RssWindow } from './process-stats';
import { downloadSeries, type DownloadSeries } from './download';
import { summarizeFile, summaryMarkdown } from './profile-summary';
import { measurePipeLevel, pipesMicrosPerRequest, startPipes } from './pipe-reference';
import { startTunnel } from './tunnel';
import { runWrk } from './wrk';

export const PROFILE_WORKLOADS = ['c1', 'c50', 'c500', 'download'] as const;
export type ProfileWorkload = (typeof PROFILE_WORKLOADS)[number];

export interface ProfileRunOptions {
  root: string;
  tmpDir: string;
  /** Where the profiles go; undefined: no profiler (a quick A/B figure). */
  profileDir?: string;
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
  const dir = opts.profileDir === undefined ? undefined : path.resolve(opts.profileDir, workload);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  const [origin1, origin2] = await Promise.all([opts.startOrigin('origin-1'), opts.startOrigin('origin-2')]);
  const tunnel = await startTunnel({ root: opts.root, tmpDir: opts.tmpDir, origin1Port: origin1.port, origin2Port: origin2.port, profileDir: dir });
  const url = `http://127.0.0.1:${tunnel.relayPort}/small`;
  const host = tunnel.hostname;
  const tunnelCpu = (): number => cpuSeconds(tunnel.relay.pid) + cpuSeconds(tunnel.agent.pid);
  let figure: string;
  let tunnelMicros: number | undefined; // relay + agent CPU per request, for the pipes' ratio
  try {
    if (!dir) await runWrk({ url, host, connections: 50, durationSec: 2 }); // warm-up, unprofiled runs only
    const cpuBefore = tunnelCpu();
    const agentBefore = cpuSeconds(tunnel.agent.pid);
    const machineBefore = machineBusySeconds();
    const started = Date.now();
    if (workload === 'download') {
      log(`${dir ? 'profile' : 'workload'}: single-stream downloads of 100 MiB through the tunnel`);
      // RSS growth as the full bench reports it ("relay RSS growth MiB during download"), from here.
      const sampler = new RssSampler([tunnel.relay.pid, tunnel.agent.pid]);
      sampler.start();
      let windows = new Map<number, RssWindow>();
      let series: DownloadSeries;
      try {
        series = await downloadSeries({ port: tunnel.relayPort, host });
      } finally {
        windows = sampler.stop();
      }
      const growth = (pid: number) => toMiB(windows.get(pid)?.growthBytes ?? 0).toFixed(1);
      const cpuPer100MiB = ((tunnelCpu() - cpuBefore) / series.runs.length) * 1000;
      figure =
        `${series.medianMbPerSec.toFixed(0)} MB/s (median of ${series.runs.length} downloads), relay + agent CPU ${cpuPer100MiB.toFixed(0)} ms per 100 MiB, ` +
        `RSS growth during the downloads: relay ${growth(tunnel.relay.pid)} MiB, agent ${growth(tunnel.agent.pid)} MiB`;
    } else {
      const connections = Number(workload.slice(1));
      log(`${dir ? 'profile' : 'workload'}: small requests, ${connections} connection(s), ${opts.durationSec} s through the tunnel`);
      const relayBefore = cpuSeconds(tunnel.relay.pid);
      const userBefore = { relay: userCpuSeconds(tunnel.relay.pid), agent: userCpuSeconds(tunnel.agent.pid) };
      const w = await runWrk({ url, host, connections, durationSec: opts.durationSec });
      const cpuPerRequest = ((tunnelCpu() - cpuBefore) / w.requests) * 1e6;
      // Each process's share alone: the two are tuned separately.
      const relayPerRequest = ((cpuSeconds(tunnel.relay.pid) - relayBefore) / w.requests) * 1e6;
      const agentPerRequest = ((cpuSeconds(tunnel.agent.pid) - agentBefore) / w.requests) * 1e6;
      // User time alone (no syscalls): what a change to our own code moves, with less noise.
      const userPerRequest = (name: 'relay' | 'agent'): string => (((userCpuSeconds(tunnel[name].pid) - userBefore[name]) / w.requests) * 1e6).toFixed(1);
      tunnelMicros = cpuPerRequest;
      figure =
        `${w.reqPerSec.toFixed(0)} req/s, p50 ${w.p50Ms.toFixed(3)} ms, p99 ${w.p99Ms.toFixed(3)} ms, relay + agent CPU ${cpuPerRequest.toFixed(1)} µs per request (relay ${relayPerRequest.toFixed(1)}, agent ${agentPerRequest.toFixed(1)}; ` +
        `user time alone: relay ${userPerRequest('relay')}, agent ${userPerRequest('agent')})`;
    }
    // Cores the whole machine was busy: with nothing else running, about what relay, agent,
    // origin and the client use; well above it, other work shared the machine (a loaded figure).
    figure += `; machine ${((machineBusySeconds() - machineBefore) / ((Date.now() - started) / 1000)).toFixed(2)} cores busy`;
  } finally {
    await tunnel.stop(); // profiles are written as the processes exit
  }
  log(`${dir ? 'profile' : 'workload'}: ${figure}`);
  if (!opts.profileDir || !dir) {
    let markdown = `${workload} through the tunnel: ${figure}\n`;
    if (tunnelMicros !== undefined) markdown += `${workload} through two Node pipes: ${await pipesFigure(origin1.port, Number(workload.slice(1)), opts.durationSec, tunnelMicros, log)}\n`;
    return { markdown, ok: true };
  }
  const parts = [`## CPU profile: ${workload} through the tunnel (${figure}, under the profiler)`, ''];
  for (const name of ['relay', 'agent']) {
    const file = newestProfile(path.join(dir, name));
    parts.push(summaryMarkdown(`${name}: top 20 functions by self time (${path.relative(opts.profileDir, file)})`, summarizeFile(file)));
  }
  const markdown = parts.join('\n');
  fs.writeFileSync(path.join(opts.profileDir, `${workload}.md`), markdown);
  return { markdown, ok: true };
}

/**
 * The same small requests through the two-pipe reference right after the tunnel (relay and agent
 * stopped): the pipes' CPU per request, measured as relay + agent's is, and tunnel / pipes, which
 * takes the machine's speed for loopback work out of an A/B figure.
 */
async function pipesFigure(originPort: number, connections: number, durationSec: number, tunnelMicros: number, log: (line: string) => void): Promise<string> {
  const pipes = await startPipes(originPort);
  try {
    log(`workload: small requests, ${connections} connection(s), ${durationSec} s through two Node pipes (after 1 s warm-up)`);
    await measurePipeLevel(pipes, connections, 1);
    const level = await measurePipeLevel(pipes, connections, durationSec);
    const micros = pipesMicrosPerRequest(level);
    const figure = `${level.reqPerSec.toFixed(0)} req/s, p50 ${level.p50Ms.toFixed(3)} ms, pipes CPU ${micros.toFixed(1)} µs per request; relay + agent / pipes CPU ${(tunnelMicros / micros).toFixed(2)}x`;
    log(`workload: pipes: ${figure}`);
    return figure;
  } finally {
    await pipes.stop();
  }
}
