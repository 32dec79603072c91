// The top functions by self time of a V8 CPU profile (a .cpuprofile written by `node --cpu-prof`),
// as a Markdown table: small enough to commit next to the figures it explains, readable in a diff.
//   node out/bench/profile-summary.js FILE.cpuprofile [TOP]     (default TOP 20)
import * as fs from 'node:fs';
import * as path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number; // 0-based
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number; // µs
  endTime: number; // µs
  samples: number[]; // node id of each sample
  timeDeltas: number[]; // µs before each sample
}

export interface SelfTime {
  name: string; // function and where it is defined
  selfMs: number;
  share: number; // of the busy time (every sample but (idle))
}

export interface ProfileSummary {
  wallMs: number;
  busyMs: number; // not (idle): JavaScript, native code, GC
  top: SelfTime[];
}

/** node_modules/ws/lib/sender.js:12 rather than a full file:// URL; bundles keep their own name. */
function where(frame: CallFrame): string {
  if (!frame.url) return '';
  const file = frame.url.replace(/^file:\/\//, '');
  const inModules = file.lastIndexOf('node_modules/');
  const shown = inModules >= 0 ? file.slice(inModules) : file.startsWith('node:') ? file : path.basename(file);
  return `${shown}:${frame.lineNumber + 1}`;
}

/** Longer names (a regular expression's whole source) are cut: the table is read, not parsed. */
const MAX_NAME = 100;

function nameOf(frame: CallFrame): string {
  const full = frame.functionName || '(anonymous)';
  const fn = full.length > MAX_NAME ? `${full.slice(0, MAX_NAME)}…` : full;
  const at = where(frame);
  return at ? `${fn} ${at}` : fn;
}

/** Self time per function (all nodes of the same function and line summed), busiest first. */
export function summarizeProfile(profile: CpuProfile, top = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  // A sample stands for the time until the next one (the delta that follows it).
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') continue;
    const name = nameOf(node.callFrame);
    selfUs.set(name, (selfUs.get(name) ?? 0) + us);
  }
  const wallUs = profile.endTime - profile.startTime;
  const busyUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const rows = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return { wallMs: wallUs / 1000, busyMs: busyUs / 1000, top: rows };
}

export function summaryMarkdown(title: string, summary: ProfileSummary): string {
  const lines = [
    `### ${title}`,
    '',
    `wall ${summary.wallMs.toFixed(0)} ms, busy (not idle) ${summary.busyMs.toFixed(0)} ms`,
    '',
    '| self ms | % of busy | function |',
    '|---:|---:|---|',
    ...summary.top.map((r) => `| ${r.selfMs.toFixed(1)} | ${(r.share * 100).toFixed(1)} | \`${r.name.replace(/\|/g, '\\|')}\` |`),
  ];
  return lines.join('\n') + '\n';
}

export function summarizeFile(file: string, top = 20): ProfileSummary {
  return summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, top);
}

if (require.main === module) {
  const [file, topArg] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node out/bench/profile-summary.js FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  process.stdout.write(summaryMarkdown(path.basename(file), summarizeFile(file, topArg ? Number(topArg) : 20)));
}
