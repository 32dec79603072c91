import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenUsage } from '../../relay/src/security/token-usage';

const MINUTE = 60_000;

describe('TokenUsage', () => {
  it('sums bytes and refusals per token over the last hour, forgetting older minutes', () => {
    const clock = { now: Date.parse('2026-01-01T00:00:30Z') };
    const usage = new TokenUsage(() => clock.now);
    usage.addBytes('tok_a', 1000);
    usage.addRefusal('tok_a');
    clock.now += 30 * MINUTE;
    usage.addBytes('tok_a', 500);
    usage.addBytes('tok_b', 7);
    assert.deepEqual(usage.report(new Map([['tok_c', 2]])), [
      { id: 'tok_a', tunnelsOnline: 0, bytesLastHour: 1500, refusalsLastHour: 1 },
      { id: 'tok_b', tunnelsOnline: 0, bytesLastHour: 7, refusalsLastHour: 0 },
      { id: 'tok_c', tunnelsOnline: 2, bytesLastHour: 0, refusalsLastHour: 0 },
    ]);
    clock.now += 30 * MINUTE;
    assert.deepEqual(usage.report(new Map())[0], { id: 'tok_a', tunnelsOnline: 0, bytesLastHour: 500, refusalsLastHour: 0 }, 'the first minute left the hour');
    clock.now += 3 * 60 * MINUTE;
    usage.addBytes('tok_a', 1);
    assert.equal(usage.report(new Map())[0].bytesLastHour, 1, 'a slot reused hours later starts from zero');
    usage.forget('tok_a');
    assert.deepEqual(usage.report(new Map()).map((u) => u.id), ['tok_b']);
  });
});
