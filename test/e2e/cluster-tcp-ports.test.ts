// TCP port allocations shared in Redis: two relays of a cluster (real redis-server) never give
// the same port to two agents, whichever relay each agent talks to, and a port answers on the relay
// holding its agent's tunnel (the load balancer's next-upstream finds it: the others refuse).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { configureAgent, portway, RELAY_BIN, startAgent, startRelay, type RelayProcess } from '../helpers/processes';
import { redisBinary, startRedis } from '../helpers/redis';
import { freePortRange, startEchoService, tcpExchange, type EchoService } from '../helpers/tcp';

const REDIS = redisBinary();
const SECRET = 'cluster-secret-for-tests-0123456789abcdef';

describe('TCP ports across a cluster (real redis-server, two relays, agents)', { skip: REDIS ? false : 'redis-server is not installed (apt-get install redis-server)' }, () => {
  const { track } = suiteCleanups();
  const relays: RelayProcess[] = [];
  let echo: EchoService;
  let token: string;

  before(async () => {
    echo = track(await startEchoService());
    const redis = track(await startRedis(REDIS!));
    const range = await freePortRange(4);
    const cluster = ['--redis', redis.url, '--cluster-secret', SECRET, '--cluster-host', '127.0.0.1', '--cluster-port', '0', '--tcp-ports', range.flag];
    relays.push(...(await Promise.all([0, 1].map(async () => track(await startRelay({ extraArgs: cluster }))))));
    token = await new Promise<string>((resolve) => execFile(process.execPath, [RELAY_BIN, 'token', 'create', '--name', 'dev', '--redis', redis.url], (_e, stdout) => resolve(stdout.trim())));
  });

  /** Configures an agent on `relay` and allocates a port there; the port it got. */
  async function allocateOn(relay: RelayProcess): Promise<{ configPath: string; port: number }> {
    const { configPath } = await configureAgent(relay, { token });
    const allocated = await portway(configPath, ['route', 'tcp', 'allocate']);
    assert.equal(allocated.code, 0, allocated.stderr);
    return { configPath, port: Number(/^Allocated port (\d+)$/m.exec(allocated.stdout)?.[1]) };
  }

  it('agents on different relays get different ports, and each port answers on the relay holding its tunnel', async () => {
    const first = await allocateOn(relays[0]);
    const second = await allocateOn(relays[1]);
    assert.notEqual(first.port, second.port, 'the second relay saw the first relay’s allocation');
    const forward = await portway(first.configPath, ['route', 'tcp', 'forward', '--port', String(first.port), '--destination', '127.0.0.1', '--dstport', String(echo.port)]);
    assert.equal(forward.code, 0, forward.stderr);
    const listening = relays[0].waitFor(new RegExp(`tcp port ${first.port}: listening`));
    const agent = track(startAgent(first.configPath));
    await agent.waitFor(/Relay applied the routes/);
    await listening;
    assert.equal((await tcpExchange(first.port, 'through the holder')).received.toString(), 'through the holder');
    // The other relay holds no tunnel for it: it does not listen (a load balancer moves on to the next relay).
    assert.ok(!relays[1].lines.some((line) => line.includes(`tcp port ${first.port}: listening`)));
  });
});
