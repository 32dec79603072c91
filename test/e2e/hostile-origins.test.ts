// Hostile and failing origins behind a real tunnel (relay, agent and origin processes on loopback):
// a visitor must see an error exactly where a direct connection to the origin shows one, and the
// relay's descriptors and memory must come back to their baseline afterwards.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl';
import { startHostileOriginTunnel, type HostileOriginTunnel } from '../helpers/hostile-origin';

/** curl's exit code for "connection reset while receiving". */
const CURL_RECV_ERROR = 56;
const BODY_BYTES = 256 * 1024;

describe('a close-delimited body cut by a failure is never delivered as complete', () => {
  let fx: HostileOriginTunnel;
  before(async () => (fx = await startHostileOriginTunnel()));
  after(async () => fx?.stop());

  it('passes an origin reset on as a reset (curl exits 56, as direct)', async () => {
    const path = `/cut?bytes=${BODY_BYTES}`;
    const direct = await curl(fx.direct(path));
    const tunneled = await curl(fx.viaRelay(path), { host: fx.hostname });
    assert.equal(direct.code, CURL_RECV_ERROR, 'direct to the origin');
    assert.equal(tunneled.code, direct.code, `through the tunnel: got ${tunneled.bytes} bytes, status ${tunneled.status}`);
    await fx.relayBackToBaseline();
  });

  it('resets the visitor when the agent is killed mid-body', async () => {
    const cut = curl(fx.viaRelay(`/hold?bytes=${BODY_BYTES}`), { host: fx.hostname, onBody: () => void fx.agent.stop('SIGKILL') });
    const result = await cut;
    assert.ok(result.bytes > 0, 'the body had started');
    assert.equal(result.code, CURL_RECV_ERROR, `got ${result.bytes} bytes, status ${result.status}`);
    await fx.restartAgent();
    await fx.relayBackToBaseline();
  });

  it('resets the visitor when the relay stops (SIGTERM) mid-body', async () => {
    const holding = once(fx.origin.events, 'holding');
    const result = await curl(fx.viaRelay(`/hold?bytes=${BODY_BYTES}`), { host: fx.hostname, onBody: () => void holding.then(() => fx.relay.stop('SIGTERM')) });
    assert.ok(result.bytes > 0, 'the body had started');
    assert.equal(result.code, CURL_RECV_ERROR, `got ${result.bytes} bytes, status ${result.status}`);
  });
});
