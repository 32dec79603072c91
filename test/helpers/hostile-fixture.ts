/**
 * A relay under attack and a canary beside it: a real relay process, an origin, and a real agent
 * serving it. Hostile tests run their attack `throughout()` (the canary must answer all along) and
 * end with `healthy()`: relay up, canary answering, and the relay's open descriptors and RSS back
 * near their baseline.
 */
import assert from 'node:assert/strict';
import type { TestOrigin } from './origin';
import { assertBackToBaseline, baselineOf, type ProcessBaseline } from './process-health';
import type { RelayProcess, RunningProcess } from './processes';
import { getThrough, RSS_MARGIN_KIB, rssKiB, type Canary } from './relay-health';
import { startTunnel } from './tunnel-fixture';

export interface HostileFixture {
  relay: RelayProcess;
  origin: TestOrigin;
  canary: Canary & { configPath: string; agent: RunningProcess };
  baselineKiB: number;
  /**
   * Runs the attack while the canary is asked, one request after another, until it ends; every
   * answer must be the canary's. Resolves with the attack's result and the relay's peak RSS seen.
   */
  throughout<T>(attack: () => Promise<T>): Promise<{ result: T; peakRssKiB: number; canaryAnswers: number }>;
  healthy(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHostileFixture(options: { relayArgs?: string[]; authKey?: string } = {}): Promise<HostileFixture> {
  const tunnel = await startTunnel(options);
  const { relay, origin, agent, configPath, hostname } = tunnel;
  const canary = { hostname, marker: 'hello from origin', configPath, agent };
  try {
    // Warm up (JIT, buffers) before the baseline is taken.
    for (let i = 0; i < 20; i++) await getThrough(relay.port, hostname, '/');
  } catch (err) {
    await tunnel.stop();
    throw err;
  }
  const baseline = baselineOf('relay', relay.child.pid!);
  const baselineKiB = baseline.rssKiB;
  const pid = relay.child.pid!;
  return {
    relay,
    origin,
    canary,
    baselineKiB,
    async throughout(attack) {
      let done = false;
      let peakRssKiB = rssKiB(pid);
      let canaryAnswers = 0;
      const asking = (async () => {
        while (!done) {
          const answer = await getThrough(relay.port, hostname, '/');
          assert.equal(answer.status, 200, `the canary answered ${answer.status} during the attack: ${answer.body.slice(0, 200)}`);
          assert.ok(answer.body.includes(canary.marker), 'canary body during the attack');
          canaryAnswers++;
          peakRssKiB = Math.max(peakRssKiB, rssKiB(pid));
        }
      })();
      // Held until the attack ends (a canary failure is reported then, not as an unhandled rejection).
      const canaryFailure = asking.then(
        () => undefined,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
      let result: Awaited<ReturnType<typeof attack>>;
      try {
        result = await attack();
      } finally {
        done = true;
        const failure = await canaryFailure;
        if (failure) throw failure;
      }
      return { result, peakRssKiB: Math.max(peakRssKiB, rssKiB(pid)), canaryAnswers };
    },
    healthy: () => assertRelayHealthy(relay, baseline, canary),
    stop: () => tunnel.stop(),
  };
}

async function assertRelayHealthy(relay: RelayProcess, baseline: ProcessBaseline, canary: Canary): Promise<void> {
  assert.equal(relay.child.exitCode, null, `relay exited:\n${relay.lines.slice(-20).join('\n')}`);
  const health = await getThrough(relay.port, 'localhost', '/_portway/health');
  assert.equal(health.status, 200);
  const canaryAnswers = async (): Promise<void> => {
    const answer = await getThrough(relay.port, canary.hostname, '/');
    assert.equal(answer.status, 200, `canary answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    assert.ok(answer.body.includes(canary.marker), 'canary body');
  };
  await canaryAnswers();
  // What an attack opened must be closed again: each canary round trip gives the relay a turn.
  await assertBackToBaseline(baseline, canaryAnswers, { rssMarginKiB: RSS_MARGIN_KIB });
}
