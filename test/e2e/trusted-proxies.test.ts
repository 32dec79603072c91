import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { startProxyProtocolForwarder } from '../helpers/proxy-protocol-forwarder';
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
  before(async () => {
    fx = await startHostileFixture({ relayArgs: ['--trusted-proxies', '127.0.0.5/32'] });
    await drop(fx, '127.0.0.9');
  });
  after(async () => fx?.stop());

  it('a trusted proxy’s X-Forwarded-For names the client: rules apply, the chain is appended to', async () => {
    const host = fx.canary.hostname;
    assert.match(await rawFrom('127.0.0.5', fx.relay.port, get(host, '/', 'X-Forwarded-For: 127.0.0.9\r\n')), /^HTTP\/1\.1 403/);
    const admitted = await rawFrom('127.0.0.5', fx.relay.port, get(host, '/echo-headers', 'X-Forwarded-For: 127.0.0.8\r\n'));
    const seen = JSON.parse(admitted.slice(admitted.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.8, 127.0.0.5');
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
