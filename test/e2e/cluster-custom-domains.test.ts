// A custom domain verified on one relay of a cluster (real redis-server, two relays, Debian's nginx
// with the shipped cluster config): its routes answer through the other relay, which forwards to
// the holder, and through the load balancer, whichever relay nginx picks.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { clusterArgs, startClusterNginx } from '../helpers/cluster';
import { TestDnsServer } from '../helpers/dns-server';
import { nginxBinary } from '../helpers/nginx';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess } from '../helpers/processes';
import { redisBinary, startRedis } from '../helpers/redis';
import { adminUrlOf, scrape } from '../helpers/relay-admin';
import { getThrough } from '../helpers/relay-health';

const NGINX = nginxBinary();
const REDIS = redisBinary();
/** Requests through nginx: its round-robin over the shipped three upstreams (A, B, A) sends some to B. */
const LB_VISITS = 6;
/** The route's firewall drops this visitor address. */
const DROPPED = '127.0.0.5';

describe('a custom domain across a cluster (real redis-server, DNS, two relays, nginx)', { skip: !NGINX || !REDIS ? 'needs nginx and redis-server (apt-get install nginx-light redis-server)' : false }, () => {
  const { track } = suiteCleanups();
  let holder: RelayProcess;
  let other: RelayProcess;
  let lbPort: number;
  let origin: TestOrigin;
  let dns: TestDnsServer;

  before(async () => {
    dns = track(await TestDnsServer.start());
    origin = track(await startOrigin());
    const redis = track(await startRedis(REDIS!));
    const args = [...clusterArgs(redis.url), '--dns-resolver', dns.address, '--trusted-proxies', '127.0.0.1/32', '--admin-port', '0'];
    [holder, other] = await Promise.all([0, 1].map(async () => track(await startRelay({ extraArgs: args }))));
    const lb = await startClusterNginx(NGINX!, [holder, other]);
    track(lb.nginx);
    lbPort = lb.lbPort;
  });

  it('verified on relay A, app.example.test answers through relay B and through nginx', async () => {
    // The agent talks to relay A directly: A verifies the domain and holds the tunnel.
    const { configPath } = await configureAgent(holder);
    const added = await portway(configPath, ['domain', 'add', 'example.test']);
    assert.equal(added.code, 0, added.stderr);
    dns.txt.set('_portway.example.test', [[/Value:\s+(\S+)/.exec(added.stdout)![1]]]);
    const verified = await portway(configPath, ['domain', 'verify', 'example.test']);
    assert.equal(verified.code, 0, verified.stderr);
    const route = await portway(configPath, ['route', 'http', 'add', '--domain', 'app.example.test', '--destination', '127.0.0.1', '--http', String(origin.port)]);
    assert.equal(route.code, 0, route.stderr);
    const dropped = await portway(configPath, ['route', 'http', 'firewall', 'drop', '--domain', 'app.example.test', '--network', DROPPED]);
    assert.equal(dropped.code, 0, dropped.stderr);
    const agent = track(startAgent(configPath));
    await agent.waitFor(/Relay applied the routes/);
    assert.ok(!agent.lines.some((line) => /rejected|refused/i.test(line)), agent.lines.join('\n'));

    const viaOther = await getThrough(other.port, 'app.example.test', '/through-b', '127.0.0.3');
    assert.equal(viaOther.status, 200, viaOther.body);
    assert.match(viaOther.body, /hello from origin \/through-b/);
    // Relay A's firewall judges the visitor relay B names, not relay B.
    assert.equal((await getThrough(other.port, 'app.example.test', '/dropped', DROPPED)).status, 403);
    for (let i = 0; i < LB_VISITS; i++) {
      const viaLb = await getThrough(lbPort, 'App.Example.Test.', `/lb-${i}`);
      assert.equal(viaLb.status, 200, `visit ${i} through nginx: ${viaLb.body.slice(0, 200)}`);
      assert.match(viaLb.body, new RegExp(`hello from origin /lb-${i}`));
    }
    // Relay B holds no tunnel: it forwarded its share to A; a domain nobody verified stays unknown there.
    const forwarded = (await scrape(await adminUrlOf(other))).get('portway_cluster_forwarded_requests_total') ?? 0;
    // One visit straight to B, and B's turns in nginx's round-robin.
    assert.ok(forwarded >= 2, `relay B forwarded ${forwarded} requests`);
    assert.equal((await getThrough(other.port, 'other.test', '/')).status, 404);
  });
});
