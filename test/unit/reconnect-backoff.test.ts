import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, DEFAULT_BACKOFF } from '../../agent/src/tunnel/backoff';

/** A clock the test moves by hand. */
function manualClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** Retries the way TunnelClient does: wait the delay, fail again. Returns the delays. */
function failFor(backoff: Backoff, clock: { advance(ms: number): void }, ms: number, kind: 'unreachable' | 'busy' = 'unreachable'): number[] {
  const delays: number[] = [];
  let waited = 0;
  while (waited < ms) {
    const delay = backoff.next(kind);
    delays.push(delay);
    clock.advance(delay);
    waited += delay;
  }
  return delays;
}

describe('reconnect Backoff', () => {
  it('probes at the short interval right after a loss, the first probe anywhere in it', () => {
    const clock = manualClock();
    const backoff = new Backoff({}, () => 1, clock.now);
    backoff.sessionEnded({ clean: false, livedMs: 60_000 });
    const delays = failFor(backoff, clock, DEFAULT_BACKOFF.probePhaseMs);
    assert.equal(delays[0], DEFAULT_BACKOFF.probeIntervalMs);
    for (const d of delays) assert.ok(d <= DEFAULT_BACKOFF.probeIntervalMs, `${d} ms in the probe phase`);
    const early = new Backoff({}, () => 0, clock.now);
    assert.equal(early.next(), 0, 'the first probe may go at once (a drained relay may already be back)');
  });

  it('however long the relay stays away, the next probe is at most unreachableMaxMs off', () => {
    const clock = manualClock();
    const backoff = new Backoff({}, () => 1, clock.now);
    backoff.sessionEnded({ clean: true, livedMs: 1 });
    const delays = failFor(backoff, clock, 45_000);
    assert.ok(delays.length > 30, `${delays.length} probes in 45 s`);
    assert.equal(Math.max(...delays), DEFAULT_BACKOFF.unreachableMaxMs);
  });

  it('a relay that refuses for load is backed off from for real, up to busyMaxMs', () => {
    const clock = manualClock();
    const backoff = new Backoff({}, () => 1, clock.now);
    const delays = failFor(backoff, clock, 120_000, 'busy');
    assert.equal(Math.max(...delays), DEFAULT_BACKOFF.busyMaxMs);
    for (let i = 1; i < delays.length; i++) assert.ok(delays[i] >= delays[i - 1], 'never shrinks while refused');
  });

  it('a clean close or a long-lived session starts over; a young one that died without a word does not', () => {
    const clock = manualClock();
    const backoff = new Backoff({}, () => 1, clock.now);
    failFor(backoff, clock, 120_000, 'busy');
    backoff.sessionEnded({ clean: false, livedMs: DEFAULT_BACKOFF.stableSessionMs - 1 });
    assert.equal(backoff.next('busy'), DEFAULT_BACKOFF.busyMaxMs, 'flapping relay: still backed off');
    backoff.sessionEnded({ clean: true, livedMs: 5 });
    assert.equal(backoff.next(), DEFAULT_BACKOFF.probeIntervalMs);
    failFor(backoff, clock, 120_000, 'busy');
    backoff.sessionEnded({ clean: false, livedMs: DEFAULT_BACKOFF.stableSessionMs });
    assert.equal(backoff.next(), DEFAULT_BACKOFF.probeIntervalMs);
  });

  it('keeps jitter: agents drawing different numbers wait different times', () => {
    const clock = manualClock();
    const draws = [0, 0.25, 0.5, 0.75, 0.999];
    const delaysAfterOutage = draws.map((r) => {
      const backoff = new Backoff({}, () => r, clock.now);
      backoff.sessionEnded({ clean: true, livedMs: 0 });
      clock.advance(DEFAULT_BACKOFF.probePhaseMs * 4);
      backoff.next(); // the first probe
      return backoff.next();
    });
    assert.equal(new Set(delaysAfterOutage).size, draws.length, delaysAfterOutage.join(', '));
    for (const d of delaysAfterOutage) assert.ok(d >= DEFAULT_BACKOFF.probeIntervalMs / 2 && d <= DEFAULT_BACKOFF.unreachableMaxMs, String(d));
  });
});
