// The bench's "tunnel / pipes" table carries CPU per request of relay + agent next to the two
// pipe processes', with their ratio; built from fixed figures, so the arithmetic is checked exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Level, LevelResult, PhaseResult } from '../../bench/measure';
import type { PipeLevel, PipeReference } from '../../bench/pipe-reference';
import { buildReport } from '../../bench/report';
import type { WrkResult } from '../../bench/wrk';

const LEVELS: Level[] = [1, 50, 500];
const noErrors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0 };

function wrk(requests: number): WrkResult {
  return { connections: 50, requests, okRequests: requests, durationSec: 5, reqPerSec: requests / 5, p50Ms: 1, p99Ms: 2, maxMs: 3, errors: noErrors, wrkCpuSeconds: 1 };
}

function phase(cpu: Record<string, number>): PhaseResult {
  const level = (): LevelResult => ({ wrk: wrk(100_000), cpuSeconds: { wrk: 1, origin: 1, ...cpu }, machineBusySeconds: 0, origin: { connections: 50, requests: 100_000 } });
  const levels = Object.fromEntries(LEVELS.map((c) => [c, level()])) as Record<Level, LevelResult>;
  const download = { runs: [], medianMbPerSec: 1000 };
  return { levels, download, downloadRss: {}, hol: { loaded: wrk(1), idleBefore: wrk(1), idleAfter: wrk(1), idleP99Ms: 2, downloadsCompleted: 1, rss: {} }, startRssBytes: {}, idleCores: { relay: 0, agent: 0 }, peakRssBytes: {} };
}

describe('bench report: CPU per request against the two pipes', () => {
  it('prints relay + agent µs, the pipes µs and their ratio at c50', () => {
    // tunnel: (1.5 + 1.5) s over 100,000 requests = 30 µs; pipes: 4 s over 100,000 = 40 µs
    const pipeLevel = (): PipeLevel => ({ ...wrk(100_000), pipesCpuSeconds: 4 });
    const pipes: PipeReference = { levels: Object.fromEntries(LEVELS.map((c) => [c, pipeLevel()])) as Record<Level, PipeLevel>, download: { runs: [], medianMbPerSec: 900 } };
    const report = buildReport({ before: phase({}), after: phase({}), tunnel: phase({ relay: 1.5, agent: 1.5 }), pipes, header: [], warnings: [] });
    const row = report.markdown.split('\n').find((l) => l.startsWith('| relay + agent CPU µs per request (c50; pipes'));
    assert.ok(row, report.markdown);
    assert.deepEqual(row.split('|').map((c) => c.trim()).slice(2, 7), ['—', '40.0', '—', '30.0', '0.75x']);
    assert.match(report.markdown, /\| relay \+ agent CPU µs per request \(c50\) \|  \| 30\.0 \|  \| ≤ 32 µs \| pass \|/);
  });
});
