/**
 * The relay's HTTPS port with real relay and agent processes on loopback: SNI routing, TLS at the
 * agent with a custom certificate, --redirect, TLS passthrough to a destination's own HTTPS
 * server, the transparent --http/--tls route, the relay's own certificate for its names, split
 * ClientHellos, and connections refused for a missing or unknown SNI.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyAgentChange } from '../helpers/tunnel-fixture';
import { request } from '../helpers/http-client';
import { configureAgent, portway, startAgent, startRelay, tempDir, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { makeCa, makeLeaf, type TestCertificate } from '../helpers/test-certs';
import { httpsRequest, oneBytePerWrite, tryHandshake } from '../helpers/tls-client';

/** Answers every request with what it saw, so tests can tell which server answered and how. */
function describeRequests(name: string): http.RequestListener {
  return (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ server: name, method: req.method, url: req.url, headers: req.headers, body }));
    });
  };
}

const TUNNEL_LABEL = 'tls-suite';

async function listen(server: http.Server | https.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: http.Server | https.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('HTTPS port: TLS routes by SNI (real processes on loopback)', { timeout: 120_000 }, () => {
  let dir: string;
  let ca: TestCertificate;
  let relayCert: TestCertificate;
  let relay: RelayProcess;
  let agent: RunningProcess;
  let configPath: string;
  let hostname: string;
  let plainOrigin: http.Server;
  let plainPort: number;
  let tlsOrigin: https.Server;
  let tlsOriginPort: number;
  let httpsPort: number;

  const change = (args: string[]) => applyAgentChange(agent, configPath, args);

  before(async () => {
    dir = tempDir('portway-tls-');
    ca = makeCa(dir);
    // The relay's own certificate for its names. (In production: *.DOMAIN and DOMAIN; a wildcard
    // right under a single-label "localhost" is refused by TLS clients, so the tunnel is named.)
    relayCert = makeLeaf(dir, ca, 'relay', [`${TUNNEL_LABEL}.localhost`, 'localhost']);
    plainOrigin = http.createServer(describeRequests('plain-origin'));
    plainPort = await listen(plainOrigin);
    relay = await startRelay({ httpsPort: 0, extraArgs: ['--tls-cert', relayCert.certPath, '--tls-key', relayCert.keyPath] });
    httpsPort = relay.httpsPort!;
    ({ configPath, hostname } = await configureAgent(relay, { hostname: TUNNEL_LABEL }));
    const originCert = makeLeaf(dir, ca, 'origin', [`pass.${hostname}`, `both.${hostname}`]);
    tlsOrigin = https.createServer({ cert: originCert.certPem, key: originCert.keyPem }, describeRequests('tls-origin'));
    tlsOriginPort = await listen(tlsOrigin);
    agent = startAgent(configPath);
    await agent.waitFor(/Connected to/);
  });

  after(async () => {
    await agent?.stop();
    await relay?.stop();
    if (plainOrigin) await closeServer(plainOrigin);
    if (tlsOrigin) await closeServer(tlsOrigin);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a mismatched or unreadable pair at add (exit 2, nothing saved)', async () => {
    const domain = `app.${hostname}`;
    const good = makeLeaf(dir, ca, 'app', [domain]);
    const other = makeLeaf(dir, ca, 'other', [`other.${hostname}`]);
    const before = fs.readFileSync(configPath, 'utf8');
    const cases: [string[], RegExp][] = [
      [['--ca', good.certPath, '--key', other.keyPath], /does not match the certificate/],
      [['--ca', other.certPath, '--key', other.keyPath], new RegExp(`is for other\\.${hostname.replace(/\./g, '\\.')}, not app\\.`)],
      [['--ca', path.join(dir, 'missing.pem'), '--key', good.keyPath], /cannot read certificate file .*ENOENT/],
      [['--ca', good.keyPath, '--key', good.certPath], /swapped/],
      [['--ca', good.certPath], /--ca FULLCHAIN and --key KEY go together/],
      [['--ca', good.certPath, '--key', good.keyPath, '--letsencrypt'], /either --letsencrypt or --ca/],
    ];
    for (const [flags, message] of cases) {
      const result = await portway(configPath, ['route', 'http', 'add', '--domain', domain, '--destination', '127.0.0.1', '--http', String(plainPort), ...flags]);
      assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
    }
    assert.equal(fs.readFileSync(configPath, 'utf8'), before, 'a refused route changes nothing');
  });

  it('custom certificate: TLS ends at the agent, the route answers over the HTTPS port', async () => {
    const domain = `app.${hostname}`;
    const cert = makeLeaf(dir, ca, 'app2', [domain]);
    await change(['route', 'http', 'add', '--domain', domain, '--destination', '127.0.0.1', '--http', String(plainPort), '--ca', cert.certPath, '--key', cert.keyPath]);
    const answer = await httpsRequest(httpsPort, domain, ca.certPem, { method: 'POST', path: '/hello?x=1', body: 'ping', headers: { 'x-forwarded-for': '10.9.9.9' } });
    assert.equal(answer.status, 200);
    const seen = JSON.parse(answer.body);
    assert.equal(seen.server, 'plain-origin');
    assert.equal(seen.url, '/hello?x=1');
    assert.equal(seen.body, 'ping');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'the client address comes from the relay, not the client');
    assert.equal(answer.serial, new (await import('node:crypto')).X509Certificate(cert.certPem).serialNumber, 'the agent presented the route\'s certificate');
    const list = await portway(configPath, ['route', 'http', 'ls']);
    assert.match(list.stdout, new RegExp(`app\\.${hostname.replace(/\./g, '\\.')} .*custom cert`));
  });

  it('--redirect: plain HTTP gets 308 to https, HTTPS is served', async () => {
    const domain = `app.${hostname}`;
    const cert = makeLeaf(dir, ca, 'app3', [domain]);
    await change(['route', 'http', 'add', '--domain', domain, '--destination', '127.0.0.1', '--http', String(plainPort), '--ca', cert.certPath, '--key', cert.keyPath, '--redirect']);
    const plain = await request(relay.port, domain, { path: '/a/b?c=d', method: 'POST', body: 'x' });
    assert.equal(plain.status, 308);
    assert.equal(plain.headers.location, `https://${domain}/a/b?c=d`);
    const secure = await httpsRequest(httpsPort, domain, ca.certPem, { path: '/a/b?c=d' });
    assert.equal(secure.status, 200);
    assert.equal(JSON.parse(secure.body).url, '/a/b?c=d');
    const info = await portway(configPath, ['info']);
    assert.match(info.stdout, new RegExp(`app\\.${hostname.replace(/\./g, '\\.')} .*custom cert .*yes`));
  });

  it('passthrough: TLS reaches the destination\'s own HTTPS server untouched', async () => {
    const domain = `pass.${hostname}`;
    await change(['route', 'http', 'add', '--domain', domain, '--destination', '127.0.0.1', '--tls', String(tlsOriginPort)]);
    const answer = await httpsRequest(httpsPort, domain, ca.certPem, { path: '/through' });
    assert.equal(answer.status, 200);
    const seen = JSON.parse(answer.body);
    assert.equal(seen.server, 'tls-origin');
    assert.equal(seen.url, '/through');
    assert.equal(seen.headers['x-forwarded-proto'], undefined, 'nobody decrypted it on the way');
  });

  it('transparent --http P --tls P2: plain HTTP to P, TLS passed through to P2', async () => {
    const domain = `both.${hostname}`;
    await change(['route', 'http', 'add', '--domain', domain, '--destination', '127.0.0.1', '--http', String(plainPort), '--tls', String(tlsOriginPort)]);
    const plain = await request(relay.port, domain, { path: '/p' });
    assert.equal(plain.status, 200);
    assert.equal(JSON.parse(plain.body.toString()).server, 'plain-origin');
    const secure = await httpsRequest(httpsPort, domain, ca.certPem, { path: '/s' });
    assert.equal(JSON.parse(secure.body).server, 'tls-origin');
  });

  it('the relay terminates TLS for its own names with --tls-cert (X-Forwarded-Proto https)', async () => {
    const domain = hostname;
    await change(['route', 'http', 'add', '--domain', domain, '--destination', '127.0.0.1', '--http', String(plainPort)]);
    const answer = await httpsRequest(httpsPort, domain, ca.certPem, { path: '/own' });
    assert.equal(answer.status, 200);
    const seen = JSON.parse(answer.body);
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(answer.serial, new (await import('node:crypto')).X509Certificate(relayCert.certPem).serialNumber);
    const health = await httpsRequest(httpsPort, 'localhost', ca.certPem, { path: '/_portway/health' });
    assert.equal(JSON.parse(health.body).status, 'ok');
  });

  it('a ClientHello split into 1-byte TCP writes still routes', async () => {
    const domain = `pass.${hostname}`;
    const split = await oneBytePerWrite(httpsPort);
    const answer = await httpsRequest(httpsPort, domain, ca.certPem, { path: '/split', socket: split.socket });
    assert.equal(JSON.parse(answer.body).server, 'tls-origin');
    assert.ok(split.writes() > 100, `the hello went out in ${split.writes()} writes`);
  });

  it('missing or unknown SNI is closed, never sent to a default tunnel', async () => {
    const missing = await tryHandshake(httpsPort); // to an IP address: no SNI is sent
    assert.equal(missing.outcome, 'closed');
    for (const servername of ['nobody.example.org', `nobody-here-1.localhost`, `x.y.nobody-here-1.localhost`]) {
      const unknown = await tryHandshake(httpsPort, { servername });
      assert.equal(unknown.outcome, 'closed', servername);
    }
    // The same client reaches a real route, so "closed" above is the routing, not the client.
    const known = await tryHandshake(httpsPort, { servername: `pass.${hostname}` });
    assert.equal(known.outcome, 'secure');
  });

  it('the route\'s firewall applies before any byte reaches the agent', async () => {
    const domain = `pass.${hostname}`;
    await change(['route', 'http', 'firewall', 'drop', '--domain', domain, '--network', '127.0.0.2']);
    const from = agent.lines.length;
    assert.equal((await tryHandshake(httpsPort, { servername: domain, localAddress: '127.0.0.2' })).outcome, 'closed');
    assert.equal((await tryHandshake(httpsPort, { servername: domain, localAddress: '127.0.0.3' })).outcome, 'secure');
    await change(['route', 'http', 'firewall', 'rm', '--domain', domain, '--network', '127.0.0.2']);
    assert.equal((await tryHandshake(httpsPort, { servername: domain, localAddress: '127.0.0.2' })).outcome, 'secure');
    assert.ok(!agent.lines.slice(from).some((l) => /127\.0\.0\.2/.test(l)), 'the agent never heard of the dropped client');
  });
});
