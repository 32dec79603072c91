// An origin that stops reading while a visitor uploads (a 2 GiB body offered): the relay and the
// agent hold at most what the stream window and socket buffers allow, the rest stays with the
// visitor; the canary keeps answering meanwhile, and once the visitor gives up every descriptor
// and byte of memory is released.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import { INITIAL_WINDOW } from '../../protocol/frame';
import { suiteCleanups } from '../helpers/cleanups';
import { writeBody } from '../helpers/write-body';
import { assertBackToBaseline, baselineOf } from '../helpers/process-health';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { getThrough, rssKiB } from '../helpers/relay-health';

const OFFERED = 2 * 1024 * 1024 * 1024;
/** Loopback socket buffers on the way (visitor→relay, relay→agent, agent→origin) hold a few MiB each. */
const SOCKET_BUFFERS_ALLOWANCE = 48 * 1024 * 1024;
/** Canary round trips without upload progress after which the upload counts as stalled. */
const STALLED_AFTER_ROUNDS = 20;
const RSS_GROWTH_LIMIT_KIB = 32 * 1024;

describe('origin stops reading an upload (real processes on loopback)', () => {
  const { track, cleanups } = suiteCleanups();
  let relay: RelayProcess;
  let agent: RunningProcess;
  let hostname: string;
  let uploadSeen!: () => void;
  const uploadArrived = new Promise<void>((resolve) => (uploadSeen = resolve));

  before(async () => {
    // Reads nothing of /upload (never consumes the body); answers anything else.
    const origin = http.createServer((req, res) => {
      if (req.url === '/upload') return void (req.pause(), uploadSeen());
      res.end('canary ok');
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      origin.closeAllConnections();
      return new Promise((resolve) => origin.close(() => resolve()));
    });
    relay = track(await startRelay());
    const configured = await configureAgent(relay);
    hostname = configured.hostname;
    const added = await portway(configured.configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String((origin.address() as AddressInfo).port)]);
    assert.equal(added.code, 0, added.stderr);
    agent = track(startAgent(configured.configPath));
    await agent.waitFor(/Relay applied the routes/);
  });

  it('relay and agent memory stay bounded by the window; all is released when the visitor gives up', { timeout: 120_000 }, async () => {
    const canary = () => getThrough(relay.port, hostname, '/');
    for (let i = 0; i < 20; i++) assert.equal((await canary()).status, 200); // warm up
    const relayBase = baselineOf('relay', relay.child.pid!);
    const agentBase = baselineOf('agent', agent.child.pid!);

    const req = http.request({ host: '127.0.0.1', port: relay.port, method: 'POST', path: '/upload', headers: { host: hostname, 'content-length': OFFERED }, agent: false });
    req.on('error', () => undefined); // destroyed by the test at the end
    writeBody(req, Buffer.alloc(256 * 1024, 'x'), OFFERED);
    await uploadArrived;

    // Accepted = what left the visitor's own buffers. Each canary round trip gives relay and agent
    // a turn to move bytes; when many pass without any moving, the upload is stalled.
    const accepted = () => (req.socket?.bytesWritten ?? 0);
    let last = -1;
    let still = 0;
    while (still < STALLED_AFTER_ROUNDS) {
      assert.equal((await canary()).status, 200, 'the canary answers while the upload is stuck');
      const now = accepted();
      still = now === last ? still + 1 : 0;
      last = now;
    }
    const relayGrowth = rssKiB(relay.child.pid!) - relayBase.rssKiB;
    const agentGrowth = rssKiB(agent.child.pid!) - agentBase.rssKiB;
    console.log(`# stalled after ${Math.round(last / 1024 / 1024)} MiB of ${OFFERED / 1024 / 1024} MiB; RSS growth relay ${Math.round(relayGrowth / 1024)} MiB, agent ${Math.round(agentGrowth / 1024)} MiB`);
    assert.ok(last <= INITIAL_WINDOW + SOCKET_BUFFERS_ALLOWANCE, `${last} bytes accepted from the visitor`);
    assert.ok(relayGrowth < RSS_GROWTH_LIMIT_KIB, `relay RSS grew ${relayGrowth} KiB`);
    assert.ok(agentGrowth < RSS_GROWTH_LIMIT_KIB, `agent RSS grew ${agentGrowth} KiB`);

    req.destroy();
    await assertBackToBaseline(relayBase, canary);
    await assertBackToBaseline(agentBase, canary);
  });
});
