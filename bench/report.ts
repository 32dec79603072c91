// Turns the three phases (direct before, tunnel, direct after) into the Markdown report: one table
// of ratios against the direct origin with the issue's thresholds, and one of where the CPU went.
import * as os from 'node:os';
import { BehindNginx } from './nginx-front';
import { PipeReference, pipesMicrosPerRequest } from './pipe-reference';
import { HOL_CONNECTIONS, Level, PhaseResult, errorCount, errorNote } from './measure';
import { RssWindow, toMiB } from './process-stats';
import { WrkResult } from './wrk';

export const RSS_GROWTH_LIMIT_MIB = 12;
export const HOL_LIMIT = 2;
const CPU_PER_REQUESTS = 10_000;
/** Relay + agent CPU per small request at c50 (issue 17). */
export const RELAY_AGENT_CPU_LIMIT_US = 32;
/** Tunnel / two Node pipes, same run (issue 17): what a two-process tunnel can approach. */
export const PIPE_FLOORS: Record<Level | 'download', number> = { 1: 0.85, 50: 1.0, 500: 1.0, download: 0.9 };

export interface ReportInput {
  before: PhaseResult;
  after: PhaseResult;
  tunnel?: PhaseResult; // absent with --direct-only or when the tunnel could not be measured
  tunnelNote?: string; // why it is absent
  pipes?: PipeReference; // the same origin through two plain Node TCP pipes (reference only)
  behindNginx?: BehindNginx; // the tunnel behind Debian's nginx with the shipped config
  behindNginxNote?: string; // why it is absent
  header: string[]; // machine, versions, durations
  warnings: string[]; // shown first among the notes
}

export interface Report {
  markdown: string;
  met: number;
  total: number;
}

interface Row {
  name: string;
  direct: string;
  tunnel: string;
  ratio: string;
  threshold: string;
  result: string;
}

type Verdict = boolean | undefined; // undefined: informational row

const fmt = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** "before / after → avg (drift ±x%)": direct is measured twice because these machines drift. */
function directCell(before: number, after: number, digits: number): string {
  const drift = ((after - before) / before) * 100;
  return `${fmt(before, digits)} / ${fmt(after, digits)} → ${fmt((before + after) / 2, digits)} (drift ${drift >= 0 ? '+' : ''}${fmt(drift, 1)}%)`;
}

export function relayAgentMicros(level: { wrk: WrkResult; cpuSeconds: Record<string, number> }): number {
  return ((level.cpuSeconds.relay + level.cpuSeconds.agent) / level.wrk.requests) * 1e6;
}

function cpuPer10k(level: { wrk: WrkResult; cpuSeconds: Record<string, number> }, name: string): number {
  return (level.cpuSeconds[name] / level.wrk.requests) * CPU_PER_REQUESTS;
}

function verdictCell(v: Verdict): string {
  return v === undefined ? '' : v ? 'pass' : '**FAIL**';
}

export function buildReport(input: ReportInput): Report {
  const { before, after, tunnel } = input;
  const rows: Row[] = [];
  const notes: string[] = [];
  let met = 0;
  let total = 0;
  const add = (name: string, direct: string, tunnelCell: string, ratio: string, threshold: string, verdict: Verdict): void => {
    if (threshold) {
      total++;
      if (verdict) met++;
    }
    rows.push({ name, direct, tunnel: tunnelCell, ratio, threshold, result: tunnel ? verdictCell(verdict) : threshold ? 'not measured' : '' });
  };
  const avg = (pick: (p: PhaseResult) => number): number => (pick(before) + pick(after)) / 2;
  const clean = (w: WrkResult | undefined): boolean => w !== undefined && errorCount(w) === 0;

  const reqThresholds: Record<Level, number> = { 1: 0.4, 50: 0.45, 500: 0.6 };
  for (const c of [1, 50, 500] as Level[]) {
    const pick = (p: PhaseResult): WrkResult => p.levels[c].wrk;
    const t = tunnel ? pick(tunnel) : undefined;
    const directRps = avg((p) => pick(p).reqPerSec);
    const ratio = t ? t.reqPerSec / directRps : NaN;
    const min = reqThresholds[c];
    add(`c${c} req/s`, directCell(pick(before).reqPerSec, pick(after).reqPerSec, 0), t ? fmt(t.reqPerSec, 0) : '—', t ? `${fmt(ratio, 2)}x` : '—', `≥ ${min.toFixed(2)}x`, t ? ratio >= min && clean(t) : false);
    for (const [label, key] of [['p50', 'p50Ms'], ['p99', 'p99Ms']] as const) {
      const d = avg((p) => pick(p)[key]);
      add(`c${c} ${label} ms`, directCell(pick(before)[key], pick(after)[key], 2), t ? fmt(t[key], 2) : '—', t ? `${fmt(t[key] / d, 2)}x` : '—', '', undefined);
    }
    for (const [phase, p] of [['direct before', before], ['tunnel', tunnel], ['direct after', after]] as const) {
      if (p && errorCount(pick(p)) > 0) notes.push(`c${c} ${phase}:${errorNote(pick(p))}`);
    }
  }

  const dl = (p: PhaseResult): number => p.download.medianMbPerSec;
  const dlRatio = tunnel ? dl(tunnel) / avg(dl) : NaN;
  add('download MB/s (100 MiB, 1 stream)', directCell(dl(before), dl(after), 0), tunnel ? fmt(dl(tunnel), 0) : '—', tunnel ? `${fmt(dlRatio, 2)}x` : '—', '≥ 0.40x', tunnel ? dlRatio >= 0.4 : false);

  // Head-of-line: loaded p99 over the idle p99 of the runs just before and after it.
  const hol = (p: PhaseResult): number => p.hol.loaded.p99Ms / p.hol.idleP99Ms;
  const holTunnel = tunnel ? `${fmt(tunnel.hol.loaded.p99Ms, 2)} ms vs idle ${fmt(tunnel.hol.idleBefore.p99Ms, 2)} / ${fmt(tunnel.hol.idleAfter.p99Ms, 2)} ms` : '—';
  add(
    `head-of-line: c${HOL_CONNECTIONS} p99 during download / idle p99 (idle runs just before and after)`,
    `${fmt(hol(before), 2)}x / ${fmt(hol(after), 2)}x (same load, no tunnel)`,
    holTunnel,
    tunnel ? `${fmt(hol(tunnel), 2)}x` : '—',
    `≤ ${HOL_LIMIT.toFixed(2)}x`,
    tunnel ? hol(tunnel) <= HOL_LIMIT && [tunnel.hol.loaded, tunnel.hol.idleBefore, tunnel.hol.idleAfter].every(clean) && tunnel.hol.downloadsCompleted > 0 : false,
  );
  for (const [phase, p] of [['direct before', before], ['tunnel', tunnel], ['direct after', after]] as const) {
    for (const [part, w] of p ? ([['idle before', p.hol.idleBefore], ['during download', p.hol.loaded], ['idle after', p.hol.idleAfter]] as const) : []) {
      if (errorCount(w) > 0) notes.push(`head-of-line ${phase}, ${part}:${errorNote(w)}`);
    }
  }
  if (tunnel) notes.push(`head-of-line tunnel: ${tunnel.hol.downloadsCompleted} download(s) of 100 MiB completed during the ${fmt(tunnel.hol.loaded.durationSec, 1)} s run`);

  for (const name of ['relay', 'agent']) {
    const peak = tunnel?.peakRssBytes[name];
    const start = tunnel?.startRssBytes[name];
    const cell = peak !== undefined && start !== undefined ? `${fmt(toMiB(peak), 1)} (${fmt(toMiB(start), 1)} idle at start)` : '—';
    add(`${name} peak RSS MiB (VmHWM)`, '', cell, '', '', undefined);
  }
  const growthCell = (w: RssWindow | undefined): string => (w ? `${fmt(toMiB(w.growthBytes), 1)} (${fmt(toMiB(w.beforeBytes), 1)} → ${fmt(toMiB(w.maxBytes), 1)})` : '—');
  for (const name of ['relay', 'agent']) {
    const w = tunnel?.downloadRss[name];
    add(`${name} RSS growth MiB during download`, '', growthCell(w), '', `≤ ${RSS_GROWTH_LIMIT_MIB} MiB`, w ? toMiB(w.growthBytes) <= RSS_GROWTH_LIMIT_MIB : false);
  }
  for (const name of ['relay', 'agent']) {
    add(`${name} RSS growth MiB during head-of-line`, '', growthCell(tunnel?.hol.rss[name]), '', '', undefined);
  }

  // CPU per 10k small requests at c50; the direct column is the origin's own cost, for scale.
  const lvl = HOL_CONNECTIONS as Level;
  const originDirect = avg((p) => cpuPer10k(p.levels[lvl], 'origin'));
  for (const name of ['relay', 'agent', 'origin']) {
    const value = tunnel ? cpuPer10k(tunnel.levels[lvl], name) : NaN;
    add(
      `${name} CPU s per 10k req (c${lvl})`,
      `origin: ${directCell(cpuPer10k(before.levels[lvl], 'origin'), cpuPer10k(after.levels[lvl], 'origin'), 3)}`,
      tunnel ? fmt(value, 3) : '—',
      tunnel ? `${fmt(value / originDirect, 2)}x origin` : '—',
      '',
      undefined,
    );
  }

  const relayAgentUs = tunnel ? relayAgentMicros(tunnel.levels[lvl]) : NaN;
  add(`relay + agent CPU µs per request (c${lvl})`, '', tunnel ? fmt(relayAgentUs, 1) : '—', '', `≤ ${RELAY_AGENT_CPU_LIMIT_US} µs`, tunnel ? relayAgentUs <= RELAY_AGENT_CPU_LIMIT_US : false);

  if (tunnel) {
    for (const name of ['relay', 'agent']) {
      const perLevel = ([1, 50, 500] as Level[]).map((c) => `c${c} ${fmt(cpuPer10k(tunnel.levels[c], name), 3)}`).join(', ');
      notes.push(`${name} CPU s per 10k req by connections: ${perLevel}; idle, no traffic: ${fmt(tunnel.idleCores[name], 3)} cores`);
    }
  }

  // How many origin connections serve 1k requests: ~0 with keep-alive, 1000 with one per request.
  const connsPer1k = (l: { origin: { connections: number; requests: number } }): number => (l.origin.connections / l.origin.requests) * 1000;
  add(
    `origin TCP connections per 1k req (c${lvl})`,
    directCell(connsPer1k(before.levels[lvl]), connsPer1k(after.levels[lvl]), 1),
    tunnel ? fmt(connsPer1k(tunnel.levels[lvl]), 1) : '—',
    '',
    '',
    undefined,
  );

  const lines = [
    '# Portway benchmark',
    '',
    ...input.header.map((h) => `- ${h}`),
    '',
    '| row | direct (before / after → avg) | tunnel | ratio | threshold | result |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.direct} | ${r.tunnel} | ${r.ratio} | ${r.threshold} | ${r.result} |`),
    '',
    ...cpuShareTable(input),
  ];
  const floors = floorTable(input);
  lines.push(...floors.lines, ...nginxTable(input));
  met += floors.met;
  total += floors.total;
  if (input.tunnelNote) notes.unshift(`tunnel not measured: ${input.tunnelNote}`);
  notes.unshift(...input.warnings.map((w) => `**${w}**`), ...sharedRuns(input).map((w) => `**${w}**`));
  if (notes.length) lines.push('', 'Notes:', '', ...notes.map((n) => `- ${n}`));
  lines.push('', `thresholds met: ${met} of ${total}`);
  return { markdown: lines.join('\n') + '\n', met, total };
}

/** Busy cores the machine had beyond the processes we watch: another's work during a run. */
const FOREIGN_LOAD_WARN_CORES = 0.4;

/**
 * Runs during which the machine was busier than wrk, origin, relay and agent together (plus the
 * kernel's share, which stays well under FOREIGN_LOAD_WARN_CORES on a quiet machine): the
 * background check before and after the benchmark cannot see load that came and went between.
 */
function sharedRuns(input: ReportInput): string[] {
  const out: string[] = [];
  for (const [phase, p] of [['direct before', input.before], ['tunnel', input.tunnel], ['direct after', input.after]] as const) {
    for (const c of [1, 50, 500] as Level[]) {
      const level = p?.levels[c];
      if (!level) continue;
      const ours = Object.values(level.cpuSeconds).reduce((a, b) => a + b, 0);
      const foreign = (level.machineBusySeconds - ours) / level.wrk.durationSec;
      if (foreign > FOREIGN_LOAD_WARN_CORES) out.push(`${phase} c${c}: the machine was ${foreign.toFixed(2)} cores busier than the benchmark's processes (other work was running): its figures are loaded`);
    }
  }
  return out;
}

/** Cores kept busy (CPU seconds / wall seconds) by each process: the machine is shared by all. */
function cpuShareTable(input: ReportInput): string[] {
  const phases: [string, PhaseResult | undefined][] = [['direct before', input.before], ['tunnel', input.tunnel], ['direct after', input.after]];
  const names = ['wrk', 'origin', 'relay', 'agent'];
  const out = [
    'CPU busy during the small-request runs (cores = CPU seconds / wall seconds; "machine" also counts the kernel, e.g. loopback softirq, charged to no process):',
    '',
    `| run | ${names.join(' | ')} | sum | machine (of ${os.cpus().length}) |`,
    `|---|${names.map(() => '---|').join('')}---|---|`,
  ];
  for (const [phase, p] of phases) {
    if (!p) continue;
    for (const c of [1, 50, 500] as Level[]) {
      const level = p.levels[c];
      const cores = names.map((n) => (level.cpuSeconds[n] === undefined ? undefined : level.cpuSeconds[n] / level.wrk.durationSec));
      const sum = cores.reduce<number>((a, b) => a + (b ?? 0), 0);
      const machine = level.machineBusySeconds / level.wrk.durationSec;
      out.push(`| ${phase} c${c} | ${cores.map((v) => (v === undefined ? '—' : fmt(v, 2))).join(' | ')} | ${fmt(sum, 2)} | ${fmt(machine, 2)} |`);
    }
  }
  return out;
}

/** The tunnel next to two plain Node TCP pipes in series: what the process shape alone allows here. */
function floorTable(input: ReportInput): { lines: string[]; met: number; total: number } {
  const { before, after, tunnel, pipes } = input;
  if (!pipes) return { lines: [], met: 0, total: 0 };
  const out = [
    '',
    'The same origin through two plain Node TCP pipes in series (`bench/pipe-hop.ts`). They have the',
    'process shape of relay + agent (two more Node processes, four more loopback hops per round trip) and do none of their',
    'work: no HTTP parsing, routing, WebSocket or multiplexing: the limit a two-process tunnel can approach on this machine.',
    '"tunnel / pipes" shows what Portway\'s own work costs on top of that shape (under 1x), or what its batching of many',
    'streams into one socket gains (over 1x); its thresholds are issue 17\'s:',
    '',
    '| row | direct avg | two Node pipes | pipes / direct | tunnel | tunnel / pipes | threshold | result |',
    '|---|---|---|---|---|---|---|---|',
  ];
  let met = 0;
  let total = 0;
  const line = (name: string, direct: number, viaPipes: number, viaTunnel: number | undefined, digits: number, floor: number): string => {
    const ratio = viaTunnel === undefined ? NaN : viaTunnel / viaPipes;
    total++;
    if (ratio >= floor) met++;
    const result = viaTunnel === undefined ? 'not measured' : verdictCell(ratio >= floor);
    return `| ${name} | ${fmt(direct, digits)} | ${fmt(viaPipes, digits)} | ${fmt(viaPipes / direct, 2)}x | ${viaTunnel === undefined ? '—' : fmt(viaTunnel, digits)} | ${viaTunnel === undefined ? '—' : `${fmt(ratio, 2)}x`} | ≥ ${floor.toFixed(2)}x | ${result} |`;
  };
  for (const c of [1, 50, 500] as Level[]) {
    const direct = (before.levels[c].wrk.reqPerSec + after.levels[c].wrk.reqPerSec) / 2;
    out.push(line(`c${c} req/s`, direct, pipes.levels[c].reqPerSec, tunnel?.levels[c].wrk.reqPerSec, 0, PIPE_FLOORS[c]));
  }
  const directDownload = (before.download.medianMbPerSec + after.download.medianMbPerSec) / 2;
  out.push(line('download MB/s (100 MiB, 1 stream)', directDownload, pipes.download.medianMbPerSec, tunnel?.download.medianMbPerSec, 0, PIPE_FLOORS.download));
  // CPU per request, same method for both (/proc utime + stime of the two processes over requests
  // served): the machine's speed for loopback work divides out of the ratio. Lower is better, so
  // under 1x means Portway spends less than the pipes; no threshold, the figure is what counts.
  const lvl = HOL_CONNECTIONS as Level;
  const pipesUs = pipesMicrosPerRequest(pipes.levels[lvl]);
  const tunnelUs = tunnel ? relayAgentMicros(tunnel.levels[lvl]) : undefined;
  out.push(
    `| relay + agent CPU µs per request (c${lvl}; pipes: both pipe processes) | — | ${fmt(pipesUs, 1)} | — | ${tunnelUs === undefined ? '—' : fmt(tunnelUs, 1)} | ${tunnelUs === undefined ? '—' : `${fmt(tunnelUs / pipesUs, 2)}x`} | | |`,
  );
  for (const c of [1, 50, 500] as Level[]) {
    if (errorCount(pipes.levels[c]) > 0) out.push('', `two Node pipes c${c}:${errorNote(pipes.levels[c])}`);
  }
  const byLevel = ([1, 50, 500] as Level[]).map((c) => {
    const t = tunnel ? relayAgentMicros(tunnel.levels[c]) : NaN;
    const p = pipesMicrosPerRequest(pipes.levels[c]);
    return `c${c} ${fmt(t, 1)} / ${fmt(p, 1)} = ${fmt(t / p, 2)}x`;
  });
  out.push('', `CPU µs per request, relay + agent / the two pipes, by connections: ${byLevel.join(', ')}`);
  return { lines: out, met, total };
}

/** The tunnel behind nginx (shipped config, --trusted-proxies) against direct, the pipes and the tunnel alone. */
function nginxTable(input: ReportInput): string[] {
  const { before, after, tunnel, pipes, behindNginx } = input;
  if (!behindNginx) return input.behindNginxNote ? ['', `Behind nginx: not measured (${input.behindNginxNote}).`] : [];
  const out = [
    '',
    'Behind nginx: Debian\'s nginx with `deploy/nginx/portway-relay.conf` (plain HTTP, upstream keep-alive) in front of a relay',
    'started with `--trusted-proxies 127.0.0.1/32`, so every request carries X-Forwarded-For; nginx is a third process in',
    'series, so the fair comparison for Portway\'s own work is its CPU per request against the tunnel without nginx:',
    '',
    '| row | direct avg | two Node pipes | tunnel | behind nginx | / direct | / pipes | / tunnel | relay + agent CPU µs/req (tunnel → behind nginx) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of [1, 50, 500] as Level[]) {
    const direct = (before.levels[c].wrk.reqPerSec + after.levels[c].wrk.reqPerSec) / 2;
    const viaPipes = pipes?.levels[c].reqPerSec;
    const viaTunnel = tunnel?.levels[c].wrk.reqPerSec;
    const nginx = behindNginx.levels[c];
    const nginxUs = (nginx.relayAgentCpuSeconds / nginx.wrk.requests) * 1e6;
    const ratio = (of: number | undefined): string => (of === undefined ? '—' : `${fmt(nginx.wrk.reqPerSec / of, 2)}x`);
    out.push(
      `| c${c} req/s | ${fmt(direct, 0)} | ${viaPipes === undefined ? '—' : fmt(viaPipes, 0)} | ${viaTunnel === undefined ? '—' : fmt(viaTunnel, 0)} | ${fmt(nginx.wrk.reqPerSec, 0)} | ${ratio(direct)} | ${ratio(viaPipes)} | ${ratio(viaTunnel)} | ${tunnel ? fmt(relayAgentMicros(tunnel.levels[c]), 1) : '—'} → ${fmt(nginxUs, 1)} |`,
    );
    if (errorCount(nginx.wrk) > 0) out.push('', `behind nginx c${c}:${errorNote(nginx.wrk)}`);
  }
  return out;
}
