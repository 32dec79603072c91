// TLS passthrough across a cluster (real redis-server, two relays with --https-port, an agent with
// a route whose TLS ends at the agent): a visitor's ClientHello on the relay that does not hold
// the tunnel goes raw to the holder over the cluster port, so the visitor completes its handshake
// with the agent's certificate, and the holder's firewall judges the visitor's own address.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { clusterArgs } from '../helpers/cluster';
import { TestDnsServer } from '../helpers/dns-server';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { configureAgent, portway, startAgent, startRelay, tempDir, type RelayProcess } from '../helpers/processes';
import { redisBinary, startRedis } from '../helpers/redis';
import { adminUrlOf, scrape } from '../helpers/relay-admin';
import { makeCa, makeLeaf, type TestCertificate } from '../helpers/test-certs';
import { httpsRequest, tryHandshake } from '../helpers/tls-client';

const REDIS = redisBinary();
/** The route's firewall drops this visitor address; others pass. */
const DROPPED = '127.0.0.5';
/** A custom domain the agent verifies on the holder, with a TLS route of its own. */
const CUSTOM = 'app.example.test';

describe('TLS passthrough through a relay that does not hold the tunnel (real redis-server, two relays, agent)', { skip: REDIS ? false : 'redis-server is not installed (apt-get install redis-server)' }, () => {
  const { track } = suiteCleanups();
  let holder: RelayProcess;
  let other: RelayProcess;
  let origin: TestOrigin;
  let ca: TestCertificate;
  let routeCert: TestCertificate;
  let hostname: string;

  before(async () => {
    origin = track(await startOrigin());
    const dns = track(await TestDnsServer.start());
    const redis = track(await startRedis(REDIS!));
    const extraArgs = [...clusterArgs(redis.url), '--admin-port', '0', '--dns-resolver', dns.address];
    [holder, other] = await Promise.all([0, 1].map(async () => track(await startRelay({ httpsPort: 0, extraArgs }))));
    // The agent talks to the holder directly; its route's TLS ends at the agent, with its own certificate.
    const configured = await configureAgent(holder);
    hostname = configured.hostname;
    const dir = tempDir('portway-cluster-tls-');
    ca = makeCa(dir);
    routeCert = makeLeaf(dir, ca, 'route', [hostname, CUSTOM]);
    const domain = await portway(configured.configPath, ['domain', 'add', 'example.test']);
    dns.txt.set('_portway.example.test', [[/Value:\s+(\S+)/.exec(domain.stdout)![1]]]);
    const verified = await portway(configured.configPath, ['domain', 'verify', 'example.test']);
    assert.equal(verified.code, 0, verified.stderr);
    for (const name of [hostname, CUSTOM]) {
      const added = await portway(configured.configPath, ['route', 'http', 'add', '--domain', name, '--destination', '127.0.0.1', '--http', String(origin.port), '--ca', routeCert.certPath, '--key', routeCert.keyPath]);
      assert.equal(added.code, 0, added.stderr);
    }
    const dropped = await portway(configured.configPath, ['route', 'http', 'firewall', 'drop', '--domain', hostname, '--network', DROPPED]);
    assert.equal(dropped.code, 0, dropped.stderr);
    const agent = track(startAgent(configured.configPath));
    await agent.waitFor(/Relay applied the routes/);
  });

  it('the handshake through relay B ends at the agent on relay A: its certificate, its answer', async () => {
    const shown = await tryHandshake(other.httpsPort!, { servername: hostname, localAddress: '127.0.0.3' });
    assert.equal(shown.outcome, 'secure', shown.outcome === 'closed' ? shown.error : '');
    const agentCert = new X509Certificate(routeCert.certPem);
    assert.equal(shown.outcome === 'secure' && shown.cert.subject, `CN=${hostname}`);
    assert.equal(shown.outcome === 'secure' && shown.cert.fingerprint256, agentCert.fingerprint256);
    const answer = await httpsRequest(other.httpsPort!, hostname, ca.certPem, { path: '/via-b', localAddress: '127.0.0.3' });
    assert.equal(answer.status, 200, answer.body);
    assert.match(answer.body, /hello from origin \/via-b/);
    const forwarded = (await scrape(await adminUrlOf(other))).get('portway_cluster_forwarded_requests_total') ?? 0;
    assert.ok(forwarded >= 2, `relay B forwarded ${forwarded} connections`);
  });

  it('a custom domain verified on relay A: its TLS route answers through relay B too', async () => {
    const answer = await httpsRequest(other.httpsPort!, CUSTOM, ca.certPem, { path: '/custom-via-b' });
    assert.equal(answer.status, 200, answer.body);
    assert.match(answer.body, /hello from origin \/custom-via-b/);
    assert.equal(answer.serial, new X509Certificate(routeCert.certPem).serialNumber);
  });

  it('the holder’s firewall sees the visitor’s address, not relay B’s', async () => {
    const refused = await tryHandshake(other.httpsPort!, { servername: hostname, localAddress: DROPPED });
    assert.equal(refused.outcome, 'closed');
    // The same visitor straight to the holder is refused alike; another address passes through B.
    assert.equal((await tryHandshake(holder.httpsPort!, { servername: hostname, localAddress: DROPPED })).outcome, 'closed');
    assert.equal((await tryHandshake(other.httpsPort!, { servername: hostname, localAddress: '127.0.0.4' })).outcome, 'secure');
  });
});
