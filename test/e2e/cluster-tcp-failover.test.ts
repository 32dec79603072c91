// A TCP port after its relay dies (real redis-server, two relays on their own loopback addresses,
// Debian's nginx with the shipped HTTP config and the stream config deploy/nginx/
// portway-cluster-tcp.sh prints): kill -9 the relay holding a tunnel with an allocated port; the
// agent reconnects through nginx to the other relay, which listens on the same port number, and a
// TCP client through nginx gets its echo again within 10 s.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { clusterArgs, nginxStreamModule, startClusterNginx } from '../helpers/cluster';
import { nginxBinary } from '../helpers/nginx';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess } from '../helpers/processes';
import { redisBinary, startRedis } from '../helpers/redis';
import { freePortRange, startEchoService, tcpExchange, type EchoService } from '../helpers/tcp';

const NGINX = nginxBinary();
const REDIS = redisBinary();
const STREAM = nginxStreamModule();
/** Each relay on its own address, so both can listen on the same port number. */
const RELAY_ADDRESSES = ['127.0.0.2', '127.0.0.3'];
const RECOVERY_LIMIT_MS = 10_000;

describe('a TCP port moves with its tunnel when the relay holding it dies (redis-server, two relays, nginx stream)', { skip: !NGINX || !REDIS || !STREAM ? 'needs nginx, its stream module and redis-server (apt-get install nginx-light libnginx-mod-stream redis-server)' : false }, () => {
  const { track } = suiteCleanups();
  let relays: RelayProcess[];
  let echo: EchoService;
  let lbPort: number;
  let port: number;

  before(async () => {
    echo = track(await startEchoService());
    const redis = track(await startRedis(REDIS!));
    const range = await freePortRange(1);
    port = range.first;
    const args = [...clusterArgs(redis.url), '--tcp-ports', range.flag, '--trusted-proxies', '127.0.0.1/32', '--cluster-lease-ms', '3000'];
    relays = await Promise.all(RELAY_ADDRESSES.map(async (host) => track(await startRelay({ host, extraArgs: args }))));
    const lb = await startClusterNginx(NGINX!, relays, { streamModule: STREAM!, range: range.flag });
    track(lb.nginx);
    lbPort = lb.lbPort;
  });

  it('kill -9 of the holder: the other relay listens on the same port and nginx reaches it within 10 s', async () => {
    const { configPath } = await configureAgent({ url: `http://127.0.0.1:${lbPort}` });
    const allocated = await portway(configPath, ['route', 'tcp', 'allocate']);
    assert.equal(allocated.code, 0, allocated.stderr);
    assert.match(allocated.stdout, new RegExp(`^Allocated port ${port}$`, 'm'));
    const forward = await portway(configPath, ['route', 'tcp', 'forward', '--port', String(port), '--destination', '127.0.0.1', '--dstport', String(echo.port)]);
    assert.equal(forward.code, 0, forward.stderr);
    const listening = new RegExp(`tcp port ${port}: listening`);
    const firstListener = Promise.race(relays.map((relay) => relay.waitFor(listening).then(() => relay)));
    const agent = track(startAgent(configPath));
    await agent.waitFor(/Relay applied the routes/);
    const holder = await firstListener;
    const other = relays.find((relay) => relay !== holder)!;
    assert.equal((await tcpExchange(port, 'before the kill')).received.toString(), 'before the kill');

    const from = { agent: agent.lines.length, other: other.lines.length };
    const killedAt = Date.now();
    await holder.stop('SIGKILL');
    await agent.waitFor(/Relay applied the routes/, RECOVERY_LIMIT_MS, from.agent);
    await other.waitFor(listening, RECOVERY_LIMIT_MS, from.other);
    const after = await tcpExchange(port, 'after the kill');
    const recoveryMs = Date.now() - killedAt;
    assert.equal(after.received.toString(), 'after the kill', `through nginx after the kill (${after.errorCode ?? 'no error'})`);
    console.log(`TCP port ${port} answered through nginx again ${recoveryMs} ms after kill -9 of its relay`);
    assert.ok(recoveryMs <= RECOVERY_LIMIT_MS, `recovered in ${recoveryMs} ms`);
  });
});
