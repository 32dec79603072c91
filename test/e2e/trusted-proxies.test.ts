import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { startProxyProtocolForwarder } from '../helpers/proxy-protocol-forwarder';
import { adminUrlOf, scrape } from '../helpers/relay-admin';
import { applyAgentChange } from '../helpers/tunnel-fixture';

/** Sends raw bytes from a chosen loopback address and returns everything the relay answers. */
function rawFrom(localAddress: string, port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => socket.write(bytes));
    let answer = '';
    socket.on('data', (c) => {
      answer += c.toString('latin1');
      if (/\r\n\r\n/.test(answer) && /Content-Length: (\d+)/i.test(answer)) {
        const length = Number(/Content-Length: (\d+)/i.exec(answer)![1]);
        if (answer.length >= answer.indexOf('\r\n\r\n') + 4 + length) socket.end();
      }
    });
    socket.on('close', () => resolve(answer));
    // A refused peer may see a reset instead of a clean close: either way, no answer.
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(answer) : reject(err)));
  });
}

/** Sends raw bytes from a chosen loopback address and returns everything answered until the relay closes. */
function untilClosed(localAddress: string, port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => socket.write(bytes));
    let answer = '';
    socket.on('data', (c) => (answer += c.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

const get = (host: string, path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`;

function drop(fx: HostileFixture, network: string): Promise<void> {
  return applyAgentChange(fx.canary.agent, fx.canary.configPath, ['route', 'http', 'firewall', 'drop', '--domain', fx.canary.hostname, '--network', network]);
}

describe('PROXY protocol from a trusted proxy (real relay on loopback)', () => {
  let relay: RelayProcess;
  let origin: TestOrigin;
  let forwarder: { port: number; close(): Promise<void> };
  let agent: RunningProcess;
  let hostname: string;
  before(async () => {
    origin = await startOrigin();
    relay = await startRelay({ extraArgs: ['--trusted-proxies', '127.0.0.5/32', '--proxy-protocol'] });
    // Agents reach this relay through the trusted proxy too, as they would behind a load balancer.
    forwarder = await startProxyProtocolForwarder(relay.port, '127.0.0.5');
    let configPath: string;
    ({ configPath, hostname } = await configureAgent({ url: `http://127.0.0.1:${forwarder.port}` }));
    await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    await portway(configPath, ['route', 'http', 'firewall', 'drop', '--domain', hostname, '--network', '127.0.0.9']);
    agent = startAgent(configPath);
    await agent.waitFor(/Relay applied the routes/);
  });
  after(async () => {
    await agent?.stop();
    await forwarder?.close();
    await relay?.stop();
    await origin?.close();
  });

  it('believes the client a trusted proxy names: its firewall rules apply and the origin sees it', async () => {
    const dropped = await rawFrom('127.0.0.5', relay.port, `PROXY TCP4 127.0.0.9 127.0.0.1 40000 80\r\n${get(hostname, '/')}`);
    assert.match(dropped, /^HTTP\/1\.1 403/);
    const admitted = await rawFrom('127.0.0.5', relay.port, `PROXY TCP4 127.0.0.8 127.0.0.1 40000 80\r\n${get(hostname, '/echo-headers')}`);
    assert.match(admitted, /^HTTP\/1\.1 200/);
    const seen = JSON.parse(admitted.slice(admitted.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.8');
  });

  it('closes a peer that is not a trusted proxy, PROXY header or not', async () => {
    assert.equal(await rawFrom('127.0.0.2', relay.port, `PROXY TCP4 127.0.0.8 127.0.0.1 40000 80\r\n${get(hostname, '/')}`), '');
    assert.equal(await rawFrom('127.0.0.2', relay.port, get(hostname, '/')), '');
    const stillServing = await rawFrom('127.0.0.5', relay.port, `PROXY TCP4 127.0.0.8 127.0.0.1 40000 80\r\n${get(hostname, '/')}`);
    assert.match(stillServing, /hello from origin/);
  });
});

describe('X-Forwarded-For from a trusted proxy (real relay on loopback)', () => {
  let fx: HostileFixture;
  let adminUrl: string;
  before(async () => {
    // Four streams, two per client address (the default share), and a short body timeout: cheap to reach.
    const limits = ['--max-streams-per-session', '4', '--body-timeout-ms', '1000'];
    fx = await startHostileFixture({ relayArgs: ['--trusted-proxies', '127.0.0.5/32', '--admin-port', '0', ...limits] });
    adminUrl = await adminUrlOf(fx.relay);
    await drop(fx, '127.0.0.9');
  });
  const fastPathRequests = async () => (await scrape(adminUrl)).get('portway_fast_path_requests_total') ?? 0;
  after(async () => fx?.stop());

  it('a trusted proxy’s X-Forwarded-For names the client: rules apply, the chain is appended to', async () => {
    const host = fx.canary.hostname;
    assert.match(await rawFrom('127.0.0.5', fx.relay.port, get(host, '/', 'X-Forwarded-For: 127.0.0.9\r\n')), /^HTTP\/1\.1 403/);
    const admitted = await rawFrom('127.0.0.5', fx.relay.port, get(host, '/echo-headers', 'X-Forwarded-For: 127.0.0.8\r\n'));
    const seen = JSON.parse(admitted.slice(admitted.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.8, 127.0.0.5');
  });

  it('a trusted proxy’s kept-alive connection stays on the fast path, each request judged by its own X-Forwarded-For', async () => {
    const host = fx.canary.hostname;
    const before = await fastPathRequests();
    // As nginx's upstream keep-alive pool does: one connection, requests of different visitors.
    const visitor = (from: string, extra = '') => `GET /echo-headers HTTP/1.1\r\nHost: ${host}\r\nX-Forwarded-For: ${from}\r\nX-Forwarded-Proto: https\r\n${extra}\r\n`;
    const answer = await untilClosed('127.0.0.5', fx.relay.port, visitor('127.0.0.8') + visitor('127.0.0.7') + visitor('127.0.0.9', 'Connection: close\r\n'));
    const bodies = answer.split(/HTTP\/1\.1 /).slice(1);
    assert.deepEqual(bodies.map((b) => b.slice(0, 3)), ['200', '200', '403'], 'the third visitor is dropped by its own address');
    const seen = bodies.slice(0, 2).map((b) => (JSON.parse(b.slice(b.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> }).headers);
    assert.deepEqual(seen.map((h) => h['x-forwarded-for']), ['127.0.0.8, 127.0.0.5', '127.0.0.7, 127.0.0.5']);
    assert.deepEqual(seen.map((h) => h['x-forwarded-proto']), ['https', 'https']);
    assert.equal((await fastPathRequests()) - before, 2, 'both admitted requests took the fast path; the refusal the full one');
  });

  it('a trusted proxy’s visitors each have their own share of the tunnel’s streams (by X-Forwarded-For)', async () => {
    const host = fx.canary.hostname;
    const upload = (from: string) => `POST /upload HTTP/1.1\r\nHost: ${host}\r\nX-Forwarded-For: ${from}\r\nContent-Length: 1000000\r\n\r\nx`;
    let arrived!: () => void;
    const bothArrived = new Promise<void>((resolve) => (arrived = resolve));
    let uploads = 0;
    const onRequest = (req: { url?: string }) => req.url === '/upload' && ++uploads === 2 && arrived();
    fx.origin.server.on('request', onRequest);
    // Two stalled uploads of one visitor, through the proxy: its whole share.
    const stalled = [untilClosed('127.0.0.5', fx.relay.port, upload('127.0.0.8')), untilClosed('127.0.0.5', fx.relay.port, upload('127.0.0.8'))];
    await bothArrived;
    fx.origin.server.off('request', onRequest);
    assert.match(await rawFrom('127.0.0.5', fx.relay.port, get(host, '/', 'X-Forwarded-For: 127.0.0.8\r\n')), /^HTTP\/1\.1 429 /, 'the same visitor waits');
    assert.match(await rawFrom('127.0.0.5', fx.relay.port, get(host, '/', 'X-Forwarded-For: 127.0.0.7\r\n')), /^HTTP\/1\.1 200 /, 'another visitor behind the same proxy is served');
    for (const answer of await Promise.all(stalled)) assert.match(answer, /^HTTP\/1\.1 408 /, 'the stalled uploads end by the body timeout');
  });

  it('a trusted proxy’s X-Forwarded-Proto is kept (TLS ended at the proxy: the origin sees https)', async () => {
    const answer = await rawFrom('127.0.0.5', fx.relay.port, get(fx.canary.hostname, '/echo-headers', 'X-Forwarded-Proto: https\r\n'));
    const seen = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
  });

  it('X-Forwarded-Proto from an untrusted peer is replaced by what the relay saw', async () => {
    const answer = await rawFrom('127.0.0.2', fx.relay.port, get(fx.canary.hostname, '/echo-headers', 'X-Forwarded-Proto: https\r\n'));
    const seen = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
  });

  it('the same header from an untrusted peer is ignored and replaced', async () => {
    const host = fx.canary.hostname;
    const passed = await rawFrom('127.0.0.2', fx.relay.port, get(host, '/echo-headers', 'X-Forwarded-For: 127.0.0.9\r\n'));
    assert.match(passed, /^HTTP\/1\.1 200/, 'the forged address does not trigger its drop rule');
    const seen = JSON.parse(passed.slice(passed.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.2');
    await fx.healthy();
  });
});
