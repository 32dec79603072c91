/**
 * End-to-end TLS is proven, not assumed: a recording TCP proxy sits between agent and relay, and
 * the marker a request and its response carry never shows up in what the relay↔agent link
 * carried (WebSocket frames decoded, masking removed) for a route whose TLS ends at the agent,
 * while the same check finds it for a plain-HTTP route. The relay's data dir, argv and
 * environment never hold the route's key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { configureAgent, portway, startAgent, startRelay, tempDir, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy';
import { makeCa, makeLeaf, type TestCertificate } from '../helpers/test-certs';
import { httpsRequest } from '../helpers/tls-client';

/** Echoes the request's marker header and body in its answer. */
function markerEcho(): http.Server {
  return http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => res.end(`answer for ${req.headers['x-marker']} to ${req.url} with ${body}`));
  });
}

function filesBelow(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesBelow(full) : entry.isFile() ? [full] : [];
  });
}

/** The base64 body of a PEM key: what any copy of it (PEM or not re-wrapped) would contain. */
function keyBody(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '').slice(0, 60);
}

describe('end-to-end TLS: the relay never sees plaintext or the key', { timeout: 60_000 }, () => {
  let dir: string;
  let ca: TestCertificate;
  let routeCert: TestCertificate;
  let relay: RelayProcess;
  let proxy: RecordingProxy;
  let agent: RunningProcess;
  let origin: http.Server;
  let configPath: string;
  let hostname: string;

  before(async () => {
    dir = tempDir('portway-e2e-tls-');
    ca = makeCa(dir);
    origin = markerEcho();
    origin.listen(0, '127.0.0.1');
    await once(origin, 'listening');
    const originPort = (origin.address() as AddressInfo).port;
    relay = await startRelay({ httpsPort: 0 });
    proxy = await startRecordingProxy(relay.port);
    // The agent reaches the relay only through the recording proxy.
    ({ configPath, hostname } = await configureAgent({ url: proxy.url }));
    routeCert = makeLeaf(dir, ca, 'route', [hostname]);
    const add = (args: string[]) => portway(configPath, ['route', 'http', 'add', '--destination', '127.0.0.1', '--http', String(originPort), ...args]);
    assert.equal((await add(['--domain', hostname, '--ca', routeCert.certPath, '--key', routeCert.keyPath])).code, 0);
    assert.equal((await add(['--domain', `plain.${hostname}`])).code, 0);
    agent = startAgent(configPath);
    await agent.waitFor(/Relay applied the routes/);
  });

  after(async () => {
    await agent?.stop();
    await proxy?.close();
    await relay?.stop();
    origin?.closeAllConnections();
    origin?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the capture shows the marker of a plain-HTTP request (the check can fail)', async () => {
    const marker = `plain-marker-${randomBytes(8).toString('hex')}`;
    const answer = await request(relay.port, `plain.${hostname}`, { method: 'POST', path: `/${marker}`, headers: { 'x-marker': marker }, body: marker });
    assert.equal(answer.status, 200);
    assert.match(answer.body.toString(), new RegExp(`answer for ${marker}`));
    const { toAgent, toRelay } = proxy.payloads();
    assert.ok(toAgent.includes(marker), 'the request crossed the link in the clear');
    assert.ok(toRelay.includes(`answer for ${marker}`), 'the response crossed the link in the clear');
  });

  it('the capture never shows the marker of a request to a route with TLS at the agent', async () => {
    const marker = `secret-marker-${randomBytes(8).toString('hex')}`;
    const answer = await httpsRequest(relay.httpsPort!, hostname, ca.certPem, { method: 'POST', path: `/${marker}`, headers: { 'x-marker': marker }, body: marker });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, `answer for ${marker} to /${marker} with ${marker}`, 'the request really went through');
    const { toAgent, toRelay } = proxy.payloads();
    assert.ok(toAgent.length > 0 && toRelay.length > 0);
    assert.ok(!toAgent.includes(marker), 'request plaintext crossed the relay↔agent link');
    assert.ok(!toRelay.includes(marker), 'response plaintext crossed the relay↔agent link');
    assert.ok(!proxy.raw().includes(marker), 'plaintext on the wire');
    assert.ok(toAgent.includes(hostname), 'the TLS stream itself did cross (its head names the SNI)');
  });

  it('the relay process holds no copy of the route\'s key: not in its data dir, argv or environment', () => {
    const body = keyBody(routeCert.keyPem);
    const files = filesBelow(relay.dataDir);
    assert.ok(files.length > 0, 'the relay wrote its state there');
    for (const file of files) assert.ok(!fs.readFileSync(file, 'latin1').includes(body), `${file} holds the key`);
    const pid = relay.child.pid!;
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
    for (const [what, text] of [['argv', cmdline], ['environment', environ]] as const) {
      assert.ok(!text.includes(body), `the relay's ${what} holds the key`);
      assert.ok(!text.includes(routeCert.keyPath) && !text.includes(dir), `the relay's ${what} names the key file`);
    }
    // The agent, which terminates TLS, is where the key lives (same check, other process).
    assert.ok(fs.readFileSync(configPath, 'utf8').includes(routeCert.keyPath));
  });
});
