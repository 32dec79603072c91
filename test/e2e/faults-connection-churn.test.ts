// 70,000 new connections one after another (a few lanes at a time) and 100,000 keep-alive requests
// through one tunnel: every answer a whole 200, and afterwards the relay and the agent hold no more
// descriptors than before (/proc/PID/fd), their RSS is back near its baseline and the relay counts
// no stream left open. The issue asks for 1M keep-alive requests; that takes minutes on a shared
// 2-core CI machine, so it is `npm run bench -- --soak` and this test runs a tenth of it.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { assertBackToBaseline, baselineOf, openFdCount, type ProcessBaseline } from '../helpers/process-health';
import { adminUrlOf, scrape } from '../helpers/relay-admin';
import { getThrough, rssKiB } from '../helpers/relay-health';
import { describeFailures, keepAliveRequests, newConnectionRequests, type LoopTarget } from '../helpers/request-loops';
import { startTunnel, type TunnelFixture } from '../helpers/tunnel-fixture';

const NEW_CONNECTIONS = 70_000;
const KEEP_ALIVE_REQUESTS = 100_000;
/** Connections opened side by side, each one after another: churn, not concurrency. */
const LANES = 4;
const KEEP_ALIVE_CONNECTIONS = 10;
/** The same traffic, smaller, before the baselines: JIT, heap and pools at their working size. */
const WARM_UP = 3_000;
/**
 * Allowed RSS above the baseline once settled. The allocator keeps some freed native socket memory
 * (54 MiB seen on a busy machine; 32 MiB was too tight), while a leak of 1 KiB per connection
 * (170 MiB over 170k connections) still exceeds it. Descriptors and open streams stay exact.
 */
const RSS_MARGIN_KIB = 128 * 1024;

describe('connection churn and keep-alive volume through one tunnel (real processes on loopback)', () => {
  const { track } = suiteCleanups();
  let tunnel: TunnelFixture;
  let target: LoopTarget;
  let adminUrl: string;
  let relayBase: ProcessBaseline;
  let agentBase: ProcessBaseline;

  before(async () => {
    tunnel = track(await startTunnel({ relayArgs: ['--admin-port', '0'] }));
    adminUrl = await adminUrlOf(tunnel.relay);
    target = { port: tunnel.relay.port, host: tunnel.hostname };
    const warmUp = [await newConnectionRequests(target, WARM_UP, LANES), await keepAliveRequests(target, WARM_UP, KEEP_ALIVE_CONNECTIONS)];
    for (const run of warmUp) assert.equal(run.ok, WARM_UP, `warm-up failures: ${describeFailures(run.failures)}`);
    relayBase = baselineOf('relay', tunnel.relay.child.pid!);
    agentBase = baselineOf('agent', tunnel.agent.child.pid!);
  });

  const canary = async (): Promise<void> => {
    const answer = await getThrough(tunnel.relay.port, tunnel.hostname, '/');
    assert.equal(answer.status, 200);
  };

  it(`${NEW_CONNECTIONS} new connections: each answered 200`, { timeout: 300_000 }, async () => {
    const run = await newConnectionRequests(target, NEW_CONNECTIONS, LANES);
    console.log(`# ${NEW_CONNECTIONS} new connections (${LANES} lanes) in ${(run.ms / 1000).toFixed(1)} s, ${Math.round(NEW_CONNECTIONS / (run.ms / 1000))}/s`);
    assert.equal(run.ok, NEW_CONNECTIONS, `failures: ${describeFailures(run.failures)}`);
  });

  it(`${KEEP_ALIVE_REQUESTS} keep-alive requests on ${KEEP_ALIVE_CONNECTIONS} connections: each answered 200`, { timeout: 300_000 }, async () => {
    const run = await keepAliveRequests(target, KEEP_ALIVE_REQUESTS, KEEP_ALIVE_CONNECTIONS);
    console.log(`# ${KEEP_ALIVE_REQUESTS} keep-alive requests in ${(run.ms / 1000).toFixed(1)} s, ${Math.round(KEEP_ALIVE_REQUESTS / (run.ms / 1000))}/s`);
    assert.equal(run.ok, KEEP_ALIVE_REQUESTS, `failures: ${describeFailures(run.failures)}`);
  });

  it('afterwards: no stream left open, descriptors and RSS back at their baseline, the relay counted every answer', async () => {
    await canary();
    await assertBackToBaseline(relayBase, canary, { rssMarginKiB: RSS_MARGIN_KIB });
    await assertBackToBaseline(agentBase, canary, { rssMarginKiB: RSS_MARGIN_KIB });
    // The canary's own stream closes just after its answer: wait on the gauge, a round trip a time.
    let metrics = await scrape(adminUrl);
    for (let round = 0; metrics.get('portway_streams') !== 0 && round < 50; round++) {
      await canary();
      metrics = await scrape(adminUrl);
    }
    assert.equal(metrics.get('portway_streams'), 0, 'streams still open on the relay');
    const answered = metrics.get('portway_http_requests_total{code="200"}') ?? 0;
    assert.ok(answered >= NEW_CONNECTIONS + KEEP_ALIVE_REQUESTS + 2 * WARM_UP, `the relay counted ${answered} answers 200`);
    const others = [...metrics].filter(([name, value]) => name.startsWith('portway_http_requests_total{') && !name.includes('"200"') && value > 0);
    assert.deepEqual(others, [], 'answers other than 200');
    for (const base of [relayBase, agentBase]) {
      console.log(`# ${base.name}: ${base.fds} → ${openFdCount(base.pid)} descriptors, RSS ${(base.rssKiB / 1024).toFixed(1)} → ${(rssKiB(base.pid) / 1024).toFixed(1)} MiB`);
    }
  });
});
