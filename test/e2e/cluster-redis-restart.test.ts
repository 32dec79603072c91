// Redis restarting under load (real redis-server, two relays, one agent): the relay holding the
// tunnel keeps serving it throughout, the other says the cluster is unavailable meanwhile, and once
// Redis is back (empty: no persistence) the relays restore tokens, identities and leases by
// themselves, so both serve the tunnel again and the token's session was never closed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import { before, describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { configureAgent, portway, RELAY_BIN, startAgent, startRelay, type RelayProcess } from '../helpers/processes';
import { redisBinary, startRedis, type RedisProcess } from '../helpers/redis';

const REDIS = redisBinary();
const SECRET = 'cluster-secret-for-tests-0123456789abcdef';

function status(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/echo-headers', agent: false, headers: { host } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

describe('Redis restarts under load (real redis-server, two relays, agent)', { skip: REDIS ? false : 'redis-server is not installed (apt-get install redis-server)' }, () => {
  const { track } = suiteCleanups();
  let origin: TestOrigin;
  let redis: RedisProcess;
  let holder: RelayProcess;
  let other: RelayProcess;
  let hostname: string;

  before(async () => {
    origin = track(await startOrigin());
    redis = track(await startRedis(REDIS!));
    const cluster = ['--redis', redis.url, '--cluster-secret', SECRET, '--cluster-host', '127.0.0.1', '--cluster-port', '0', '--cluster-lease-ms', '3000'];
    holder = track(await startRelay({ extraArgs: cluster }));
    other = track(await startRelay({ extraArgs: cluster }));
    const token = await new Promise<string>((resolve) => execFile(process.execPath, [RELAY_BIN, 'token', 'create', '--name', 'dev', '--redis', redis.url], (_e, stdout) => resolve(stdout.trim())));
    const agentConfig = await configureAgent(holder, { token });
    hostname = agentConfig.hostname;
    await portway(agentConfig.configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    const agent = track(startAgent(agentConfig.configPath));
    await agent.waitFor(/Relay applied the routes/);
    assert.equal(await status(other.port, hostname), 200, 'served through the other relay before the restart');
  });

  it('the holding relay serves every request while Redis restarts; afterwards both relays serve the tunnel again', async () => {
    let restarting = true;
    const answers: number[] = [];
    const load = (async () => {
      while (restarting) answers.push(await status(holder.port, hostname));
    })();
    const lost = holder.waitFor(/lost Redis/);
    await redis.stop('SIGKILL');
    await lost;
    // The other relay forwards on a lookup of the last second (LOOKUP_CACHE_MS), then cannot find the holder.
    let away = await status(other.port, hostname);
    const awayDeadline = Date.now() + 5_000;
    while (away === 200 && Date.now() < awayDeadline) away = await status(other.port, hostname);
    assert.equal(away, 503, 'the other relay cannot find the holder while Redis is away');
    const back = holder.waitFor(/Redis is back/);
    const restored = Promise.race([holder.waitFor(/restored them from this relay/), other.waitFor(/restored them from this relay/)]);
    redis = track(await startRedis(REDIS!, redis.port));
    await back;
    await restored;
    restarting = false;
    await load;
    assert.ok(answers.length > 0);
    assert.deepEqual([...new Set(answers)], [200], `every request through the holder answered 200 (${answers.length} requests)`);
    // The holder re-creates its lease at its next renewal (a third of the lease time).
    let answer = await status(other.port, hostname);
    const deadline = Date.now() + 5_000;
    while (answer !== 200 && Date.now() < deadline) answer = await status(other.port, hostname);
    assert.equal(answer, 200, 'the other relay finds the holder again');
    assert.ok(!holder.lines.some((line) => /token revoked/.test(line)), 'the restored tokens closed no session');
  });
});
