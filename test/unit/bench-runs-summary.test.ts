// `npm run bench -- --runs N`: each run's issue 17 figures and their medians, judged on the medians.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../../bench/args';
import { RunFigures, median, runsSummaryMarkdown } from '../../bench/runs-summary';

function figures(overrides: Partial<RunFigures>): RunFigures {
  return { c1: 0.9, c50: 1.1, c500: 1.2, download: 0.95, headOfLine: 1.5, relayRssGrowthMiB: 3, agentRssGrowthMiB: 1, relayAgentCpuUs: 30, pipesCpuUs: 60, ...overrides };
}

describe('bench runs summary', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  it('judges the medians, not the best or the worst run', () => {
    const md = runsSummaryMarkdown([figures({ c1: 0.7 }), figures({ c1: 0.8 }), figures({ c1: 0.95 })]);
    assert.match(md, /\| \*\*median\*\* \| \*\*0\.80x\*\* \|/);
    assert.match(md, /targets met by the medians: 6 of 7 \(not met: c1 ≥ 0\.85x\)/);
    const rows = md.split('\n').filter((l) => /^\| \d \|/.test(l));
    assert.equal(rows.length, 3);
  });

  it('says every target is met when the medians meet them, with the CPU ratio to the pipes', () => {
    const md = runsSummaryMarkdown([figures({}), figures({ relayAgentCpuUs: 40 })]);
    assert.match(md, /targets met by the medians: 6 of 7 \(not met: relay \+ agent µs\/req c50 ≤ 32\)/); // median 35 µs
    assert.match(runsSummaryMarkdown([figures({})]), /targets met by the medians: 7 of 7\n/);
    assert.match(runsSummaryMarkdown([figures({})]), /\| \*\*0\.50x\*\* \|\n/);
  });

  it('--runs takes 1 to 9 and refuses anything else with the reason', () => {
    assert.equal(parseArgs(['--runs', '3']).runs, 3);
    assert.equal(parseArgs([]).runs, 1);
    assert.throws(() => parseArgs(['--runs', '0']), /--runs wants a whole number from 1 to 9, got 0/);
    assert.throws(() => parseArgs(['--runs']), /--runs wants a whole number from 1 to 9, got undefined/);
  });
});
