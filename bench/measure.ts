// One measurement phase: the same figures taken against one target, either the origins directly
// or the origins through the tunnel. The harness runs direct, tunnel, direct.
import { Target, DownloadSeries, downloadBig, downloadSeries } from './download';
import { OriginStats, fetchOriginStats, statsDelta } from './origin-stats';
import { RssSampler, RssWindow, cpuSeconds, machineBusySeconds, readMemory } from './process-stats';
import { WrkResult, runWrk } from './wrk';

export const CONNECTION_LEVELS = [1, 50, 500] as const;
export type Level = (typeof CONNECTION_LEVELS)[number];
/** Connections for the head-of-line figure and the CPU-per-request figure. */
export const HOL_CONNECTIONS = 50;
const WARMUP_SECONDS = 2;
const IDLE_SECONDS = 1;

export interface PhaseTargets {
  small: Target; // serves /small from origin 1
  big: Target; // serves /big from origin 2 (head-of-line only)
  download: Target; // serves /big for the single-stream figure (origin 1)
}

/** Processes whose CPU and memory we watch: always the origin, plus relay and agent in the tunnel phase. */
export type Watched = Record<string, number>; // name -> pid

export interface LevelResult {
  wrk: WrkResult;
  cpuSeconds: Record<string, number>; // per watched process, during this wrk run; also 'wrk'
  machineBusySeconds: number; // all CPUs, all processes and the kernel, during this wrk run
  origin: OriginStats; // TCP connections accepted and requests served by origin 1 during the run
}

interface UnderDownload {
  loaded: WrkResult; // small requests at HOL_CONNECTIONS while downloads of /big run
  downloadsCompleted: number;
  rss: Record<string, RssWindow>;
}

export interface HolResult extends UnderDownload {
  // Idle runs right before and right after the loaded one: the p99 they are compared with is
  // taken next to it in time, because on a shared machine p99 drifts within a minute.
  idleBefore: WrkResult;
  idleAfter: WrkResult;
  idleP99Ms: number; // mean of the two
}

export interface PhaseResult {
  levels: Record<Level, LevelResult>;
  download: DownloadSeries;
  downloadRss: Record<string, RssWindow>; // growth during the single-stream downloads
  hol: HolResult;
  startRssBytes: Record<string, number>; // VmRSS before the phase's first request
  idleCores: Record<string, number>; // CPU used with no traffic at all (a busy loop or chatty timer shows here)
  peakRssBytes: Record<string, number>; // VmHWM at the end of the phase
}

export interface PhaseOptions {
  name: string;
  targets: PhaseTargets;
  watched: Watched;
  originPort: number; // origin 1, for its counters
  durationSec: number;
  log: (line: string) => void;
}

function smallUrl(target: Target): string {
  return `http://127.0.0.1:${target.port}/small`;
}

function rssRecord(windows: Map<number, RssWindow>, watched: Watched): Record<string, RssWindow> {
  const out: Record<string, RssWindow> = {};
  for (const [name, pid] of Object.entries(watched)) {
    const window = windows.get(pid);
    if (window) out[name] = window;
  }
  return out;
}

async function measureIdle(watched: Watched, seconds: number): Promise<Record<string, number>> {
  const before = Object.fromEntries(Object.entries(watched).map(([name, pid]) => [name, cpuSeconds(pid)]));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return Object.fromEntries(Object.entries(watched).map(([name, pid]) => [name, (cpuSeconds(pid) - before[name]) / seconds]));
}

async function measureLevel(opts: PhaseOptions, connections: number): Promise<LevelResult> {
  const before = Object.fromEntries(Object.entries(opts.watched).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const machineBefore = machineBusySeconds();
  const originBefore = await fetchOriginStats(opts.originPort);
  const wrk = await runWrk({ url: smallUrl(opts.targets.small), host: opts.targets.small.host, connections, durationSec: opts.durationSec });
  const cpu: Record<string, number> = { wrk: wrk.wrkCpuSeconds };
  for (const [name, pid] of Object.entries(opts.watched)) cpu[name] = cpuSeconds(pid) - before[name];
  const machine = machineBusySeconds() - machineBefore;
  const origin = statsDelta(originBefore, await fetchOriginStats(opts.originPort));
  return { wrk, cpuSeconds: cpu, machineBusySeconds: machine, origin };
}

/** Small requests while one download of /big after another runs from the second origin. */
async function measureUnderDownload(opts: PhaseOptions): Promise<UnderDownload> {
  const sampler = new RssSampler(Object.values(opts.watched));
  sampler.start();
  let stop = false;
  let downloadsCompleted = 0;
  const downloads = (async (): Promise<void> => {
    while (!stop) {
      await downloadBig(opts.targets.big);
      downloadsCompleted++;
    }
  })();
  downloads.catch(() => undefined); // rethrown below, after wrk finishes
  let loaded: WrkResult;
  let windows: Map<number, RssWindow>;
  try {
    loaded = await runWrk({ url: smallUrl(opts.targets.small), host: opts.targets.small.host, connections: HOL_CONNECTIONS, durationSec: opts.durationSec });
  } finally {
    stop = true;
    await downloads.catch(() => undefined); // let the download in flight finish (bounded by its own timeout)
    windows = sampler.stop();
  }
  await downloads; // a failed download fails the figure
  return { loaded, downloadsCompleted, rss: rssRecord(windows, opts.watched) };
}

async function measureHeadOfLine(opts: PhaseOptions): Promise<HolResult> {
  const idle = (): Promise<WrkResult> =>
    runWrk({ url: smallUrl(opts.targets.small), host: opts.targets.small.host, connections: HOL_CONNECTIONS, durationSec: Math.ceil(opts.durationSec / 2) });
  const idleBefore = await idle();
  const underDownload = await measureUnderDownload(opts);
  const idleAfter = await idle();
  return { ...underDownload, idleBefore, idleAfter, idleP99Ms: (idleBefore.p99Ms + idleAfter.p99Ms) / 2 };
}

export async function measurePhase(opts: PhaseOptions): Promise<PhaseResult> {
  const { log } = opts;
  const startRssBytes = Object.fromEntries(Object.entries(opts.watched).map(([name, pid]) => [name, readMemory(pid).rssBytes]));
  const idleCores = await measureIdle(opts.watched, IDLE_SECONDS);
  log(`${opts.name}: warm-up ${WARMUP_SECONDS} s`);
  await runWrk({ url: smallUrl(opts.targets.small), host: opts.targets.small.host, connections: HOL_CONNECTIONS, durationSec: WARMUP_SECONDS });

  const levels = {} as Record<Level, LevelResult>;
  for (const c of CONNECTION_LEVELS) {
    log(`${opts.name}: small requests, ${c} connection(s), ${opts.durationSec} s`);
    levels[c] = await measureLevel(opts, c);
    const w = levels[c].wrk;
    log(`  ${w.reqPerSec.toFixed(0)} req/s, p50 ${w.p50Ms.toFixed(2)} ms, p99 ${w.p99Ms.toFixed(2)} ms${errorNote(w)}`);
  }

  log(`${opts.name}: single-stream download of 100 MiB`);
  const sampler = new RssSampler(Object.values(opts.watched));
  sampler.start();
  let download: DownloadSeries;
  let windows: Map<number, RssWindow>;
  try {
    download = await downloadSeries(opts.targets.download);
  } finally {
    windows = sampler.stop();
  }
  const downloadRss = rssRecord(windows, opts.watched);
  log(`  ${download.medianMbPerSec.toFixed(0)} MB/s (median of ${download.runs.length})`);

  log(`${opts.name}: head-of-line, ${HOL_CONNECTIONS} connections: idle, during 100 MiB downloads (${opts.durationSec} s), idle`);
  const hol = await measureHeadOfLine(opts);
  log(`  p99 ${hol.loaded.p99Ms.toFixed(2)} ms vs idle ${hol.idleBefore.p99Ms.toFixed(2)} / ${hol.idleAfter.p99Ms.toFixed(2)} ms, ${hol.downloadsCompleted} download(s) completed${errorNote(hol.loaded)}`);

  const peakRssBytes = Object.fromEntries(Object.entries(opts.watched).map(([name, pid]) => [name, readMemory(pid).hwmBytes]));
  return { levels, download, downloadRss, hol, startRssBytes, idleCores, peakRssBytes };
}

export function errorCount(w: WrkResult): number {
  const e = w.errors;
  return e.connect + e.read + e.write + e.status + e.timeout;
}

export function errorNote(w: WrkResult): string {
  if (errorCount(w) === 0) return '';
  const e = w.errors;
  return ` (errors: connect ${e.connect}, read ${e.read}, write ${e.write}, status>=400 ${e.status}, timeout ${e.timeout})`;
}
