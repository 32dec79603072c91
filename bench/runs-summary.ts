// `npm run bench -- --runs N`: issue 17's figures from each of N full runs, and their medians.
// One run on a shared 2-core machine swings by 10-30%; the issue's floors are judged on medians.
import { Level } from './measure';
import { pipesMicrosPerRequest } from './pipe-reference';
import { HOL_LIMIT, PIPE_FLOORS, RELAY_AGENT_CPU_LIMIT_US, RSS_GROWTH_LIMIT_MIB, ReportInput, relayAgentMicros } from './report';
import { toMiB } from './process-stats';

/** One run's figures, each as issue 17 states its target. */
export interface RunFigures {
  /** Tunnel / two Node pipes, req/s at 1, 50 and 500 connections, and MB/s of the 100 MiB download. */
  c1: number;
  c50: number;
  c500: number;
  download: number;
  /** c50 p99 during the downloads / idle p99, through the tunnel. */
  headOfLine: number;
  relayRssGrowthMiB: number;
  agentRssGrowthMiB: number;
  /** CPU µs per small request at c50: relay + agent, and the two pipe processes. */
  relayAgentCpuUs: number;
  pipesCpuUs: number;
}

/** The figures of one run, or undefined when the tunnel or the pipes were not measured. */
export function runFigures(input: ReportInput): RunFigures | undefined {
  const { tunnel, pipes } = input;
  if (!tunnel || !pipes) return undefined;
  const perSec = (c: Level): number => tunnel.levels[c].wrk.reqPerSec / pipes.levels[c].reqPerSec;
  return {
    c1: perSec(1),
    c50: perSec(50),
    c500: perSec(500),
    download: tunnel.download.medianMbPerSec / pipes.download.medianMbPerSec,
    headOfLine: tunnel.hol.loaded.p99Ms / tunnel.hol.idleP99Ms,
    relayRssGrowthMiB: toMiB(tunnel.downloadRss.relay?.growthBytes ?? NaN),
    agentRssGrowthMiB: toMiB(tunnel.downloadRss.agent?.growthBytes ?? NaN),
    relayAgentCpuUs: relayAgentMicros(tunnel.levels[50]),
    pipesCpuUs: pipesMicrosPerRequest(pipes.levels[50]),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Column {
  title: string;
  cell: (f: RunFigures) => string;
  /** Whether the median meets the issue's target; undefined: shown for reference only. */
  meets?: (m: RunFigures) => boolean;
}

const x = (n: number): string => `${n.toFixed(2)}x`;

const COLUMNS: Column[] = [
  { title: `c1 ≥ ${PIPE_FLOORS[1]}x`, cell: (f) => x(f.c1), meets: (m) => m.c1 >= PIPE_FLOORS[1] },
  { title: `c50 ≥ ${PIPE_FLOORS[50]}x`, cell: (f) => x(f.c50), meets: (m) => m.c50 >= PIPE_FLOORS[50] },
  { title: `c500 ≥ ${PIPE_FLOORS[500]}x`, cell: (f) => x(f.c500), meets: (m) => m.c500 >= PIPE_FLOORS[500] },
  { title: `download ≥ ${PIPE_FLOORS.download}x`, cell: (f) => x(f.download), meets: (m) => m.download >= PIPE_FLOORS.download },
  { title: `head-of-line ≤ ${HOL_LIMIT}x`, cell: (f) => x(f.headOfLine), meets: (m) => m.headOfLine <= HOL_LIMIT },
  {
    title: `relay / agent RSS growth ≤ ${RSS_GROWTH_LIMIT_MIB} MiB`,
    cell: (f) => `${f.relayRssGrowthMiB.toFixed(1)} / ${f.agentRssGrowthMiB.toFixed(1)}`,
    meets: (m) => m.relayRssGrowthMiB <= RSS_GROWTH_LIMIT_MIB && m.agentRssGrowthMiB <= RSS_GROWTH_LIMIT_MIB,
  },
  { title: `relay + agent µs/req c50 ≤ ${RELAY_AGENT_CPU_LIMIT_US}`, cell: (f) => f.relayAgentCpuUs.toFixed(1), meets: (m) => m.relayAgentCpuUs <= RELAY_AGENT_CPU_LIMIT_US },
  { title: 'pipes µs/req c50 (reference)', cell: (f) => f.pipesCpuUs.toFixed(1) },
  { title: 'relay + agent / pipes CPU', cell: (f) => x(f.relayAgentCpuUs / f.pipesCpuUs) },
];

/** Each run's row, the medians' row and which targets the medians meet. */
export function runsSummaryMarkdown(runs: readonly RunFigures[]): string {
  if (runs.length === 0) return '\n## Issue 17 across runs\n\nnot measured: no run had both the tunnel and the pipes\n';
  const keys = Object.keys(runs[0]) as (keyof RunFigures)[];
  const medians = Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))])) as unknown as RunFigures;
  const judged = COLUMNS.filter((c) => c.meets);
  const met = judged.filter((c) => c.meets!(medians));
  const lines = [
    '',
    `## Issue 17 across ${runs.length} run(s): tunnel / two Node pipes, each run and the medians`,
    '',
    `| run | ${COLUMNS.map((c) => c.title).join(' | ')} |`,
    `|---|${COLUMNS.map(() => '---|').join('')}`,
    ...runs.map((r, i) => `| ${i + 1} | ${COLUMNS.map((c) => c.cell(r)).join(' | ')} |`),
    `| **median** | ${COLUMNS.map((c) => `**${c.cell(medians)}**`).join(' | ')} |`,
    '',
    `targets met by the medians: ${met.length} of ${judged.length}` + (met.length < judged.length ? ` (not met: ${judged.filter((c) => !met.includes(c)).map((c) => c.title).join('; ')})` : ''),
  ];
  return lines.join('\n') + '\n';
}
