/**
 * `route http add --letsencrypt` for real: Debian's pebble validates HTTP-01 by fetching the
 * token from the relay's plain HTTP port (its httpPort points there), the agent answers through
 * the tunnel, and the certificate then serves HTTPS on the relay's HTTPS port (passed through,
 * terminated at the agent), verified against pebble's root. Certificates live a few seconds, so
 * the running agent renews and swaps the certificate it presents without a restart.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { startPebble, type Pebble } from '../helpers/pebble';
import { configureAgent, portway, startAgent, startRelay, tempDir, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { httpsRequest } from '../helpers/tls-client';

/** Lifetime of pebble's certificates here: the agent renews with a third of it left. */
const VALIDITY_SECONDS = 24;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('ACME through the tunnel (pebble, real relay and agent)', { timeout: 120_000 }, () => {
  let dir: string;
  let relay: RelayProcess;
  let pebble: Pebble;
  let agent: RunningProcess;
  let origin: http.Server;
  let originPort: number;
  let configPath: string;
  let hostname: string;
  let root: string;

  before(async () => {
    dir = tempDir('portway-acme-tunnel-');
    origin = http.createServer((req, res) => res.end(`origin saw ${req.url} over ${req.headers['x-forwarded-proto']}`));
    origin.listen(0, '127.0.0.1');
    await once(origin, 'listening');
    originPort = (origin.address() as AddressInfo).port;
    relay = await startRelay({ httpsPort: 0 });
    // Pebble's HTTP-01 validation connects to the relay's public HTTP port.
    pebble = await startPebble({ httpPort: relay.port, certificateValiditySeconds: VALIDITY_SECONDS });
    root = await pebble.rootCertPem();
    ({ configPath, hostname } = await configureAgent(relay));
    const bundle = path.join(dir, 'pebble-listener-ca.pem');
    fs.writeFileSync(bundle, pebble.caBundlePem);
    const acme = await portway(configPath, ['configure', '--acme-directory', pebble.directoryUrl, '--acme-ca-bundle', bundle]);
    assert.equal(acme.code, 0, acme.stderr);
    assert.match(acme.stdout, new RegExp(`ACME directory: ${escape(pebble.directoryUrl)}`));
    agent = startAgent(configPath);
    await agent.waitFor(/Connected to/);
  });

  after(async () => {
    await agent?.stop();
    await pebble?.stop();
    await relay?.stop();
    origin?.closeAllConnections();
    origin?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('obtains the certificate while start runs, serves HTTPS end to end, keeps the key 0600', async (t) => {
    const from = agent.lines.length;
    const added = await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(originPort), '--letsencrypt', '--redirect']);
    assert.equal(added.code, 0, added.stderr);
    const issuedLine = await Promise.race([
      agent.waitFor(new RegExp(`certificate for ${escape(hostname)} issued \\(serial (\\w+)`), 60_000, from),
      agent.waitFor(/could not obtain a certificate/, 60_000, from).then((m) => assert.fail(m.input)),
    ]);
    t.diagnostic(issuedLine.input ?? '');

    // The CA's HTTP-01 request came through the relay's HTTP port although --redirect is on.
    const answer = await httpsRequest(relay.httpsPort!, hostname, root, { path: '/secure' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'origin saw /secure over https');
    assert.equal(answer.serial, issuedLine[1]);
    // Verification is real: another trust root is refused.
    await assert.rejects(httpsRequest(relay.httpsPort!, hostname, pebble.caBundlePem), /unable to verify|local issuer|self.signed/i);

    const redirected = await request(relay.port, hostname, { path: '/x' });
    assert.equal(redirected.status, 308);
    assert.equal(redirected.headers.location, `https://${hostname}/x`);

    const certDir = path.join(path.dirname(configPath), 'certs', hostname);
    for (const file of ['key.pem', 'fullchain.pem']) assert.equal(fs.statSync(path.join(certDir, file)).mode & 0o777, 0o600, file);
    const stored = new X509Certificate(fs.readFileSync(path.join(certDir, 'fullchain.pem')));
    assert.equal(stored.serialNumber, answer.serial);
    assert.ok(!fs.readdirSync(relay.dataDir).some((f) => fs.readFileSync(path.join(relay.dataDir, f), 'utf8').includes('PRIVATE KEY')));

    const info = await portway(configPath, ['info']);
    assert.match(info.stdout, new RegExp(`${escape(hostname)} .*letsencrypt .*yes`));
  });

  it('renews before expiry and presents the new certificate without a restart', async (t) => {
    const before = await httpsRequest(relay.httpsPort!, hostname, root);
    const renewed = await Promise.race([
      agent.waitFor(new RegExp(`certificate for ${escape(hostname)} renewed \\(serial (\\w+)`), VALIDITY_SECONDS * 1000 + 30_000),
      agent.waitFor(/could not obtain a certificate/, VALIDITY_SECONDS * 1000 + 30_000).then((m) => assert.fail(m.input)),
    ]);
    t.diagnostic(renewed.input ?? '');
    assert.notEqual(renewed[1], before.serial);
    const after = await httpsRequest(relay.httpsPort!, hostname, root);
    assert.equal(after.serial, renewed[1], 'new handshakes get the renewed certificate');
    assert.equal(after.body, 'origin saw / over https');
    assert.equal(agent.child.exitCode, null, 'the same agent process');
  });
});
