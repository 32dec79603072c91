// `portway http PORT` and `portway tcp PORT`: share a local port at once, for as long as the
// command runs, without saving a forward; and what happens when two agents run with one identity
// (one config file).
// Real relay and agent processes on loopback.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { request } from '../helpers/http-client';
import { AGENT_BIN, RunningProcess, configureAgent, portway, startAgent, startRelay, tempDir, type RelayProcess } from '../helpers/processes';
import { freePortRange, startEchoService, tcpExchange } from '../helpers/tcp';

/** `portway http ARGS…` (or `portway tcp ARGS…`) in the background. */
function startQuickShare(configPath: string, args: string[], kind: 'http' | 'tcp' = 'http'): RunningProcess {
  return new RunningProcess(spawn(process.execPath, [AGENT_BIN, '--config', configPath, kind, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function startNamedOrigin(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => res.end(`${name} ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('portway http PORT (real processes on loopback)', () => {
  const { cleanups, track } = suiteCleanups();

  let relay: RelayProcess;
  const relayOnce = async (): Promise<RelayProcess> => (relay ??= track(await startRelay()));

  it('serves the port at the assigned hostname for as long as it runs, and saves nothing', async () => {
    const relay = await relayOnce();
    const origin = track(await startNamedOrigin('quick'));
    const { configPath, hostname } = await configureAgent(relay);
    const saved = fs.readFileSync(configPath, 'utf8');
    const share = track(startQuickShare(configPath, [String(origin.port)]));
    const [, url] = await share.waitFor(/Forwarding (\S+) -> http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(url, `http://${hostname}:${relay.port}/`);
    const res = await request(relay.port, hostname, { path: '/hi', timeoutMs: 10_000 });
    assert.equal(res.body.toString(), 'quick /hi');
    assert.equal(fs.readFileSync(configPath, 'utf8'), saved, 'the config file is untouched');

    const offlineFrom = relay.lines.length;
    await share.stop();
    assert.equal(await share.exited, 0);
    await relay.waitFor(/agent offline: /, 10_000, offlineFrom);
    assert.equal((await request(relay.port, hostname, { timeoutMs: 10_000 })).status, 502);
  });

  it('wins over a saved route of the same domain while it runs, keeping its firewall; the saved one serves again after', async () => {
    const relay = await relayOnce();
    const savedOrigin = track(await startNamedOrigin('saved'));
    const quickOrigin = track(await startNamedOrigin('quick'));
    const { configPath, hostname } = await configureAgent(relay);
    const domain = `app.${hostname}`;
    await portway(configPath, ['route', 'http', 'add', '--domain', domain, '--destination', '127.0.0.1', '--http', String(savedOrigin.port)]);
    await portway(configPath, ['route', 'http', 'firewall', 'drop', '--domain', domain, '--network', '127.0.0.2']);

    const share = track(startQuickShare(configPath, [String(quickOrigin.port), '--domain', domain]));
    await share.waitFor(/Relay applied the routes/);
    assert.equal((await request(relay.port, domain, { path: '/x', timeoutMs: 10_000 })).body.toString(), 'quick /x');
    const dropped = await new Promise<number>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: relay.port, path: '/', headers: { host: domain }, localAddress: '127.0.0.2' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    assert.equal(dropped, 403, "the saved route's firewall still holds");
    await share.stop();

    const agent = track(startAgent(configPath));
    await agent.waitFor(/Relay applied the routes/);
    assert.equal((await request(relay.port, domain, { path: '/y', timeoutMs: 10_000 })).body.toString(), 'saved /y');
  });

  it('refuses bad input with a clear message and a non-zero exit', async () => {
    const relay = await relayOnce();
    const { configPath, hostname } = await configureAgent(relay);
    const cases: [string[], number, RegExp][] = [
      [[], 2, /PORT is required/],
      [['abc'], 2, /PORT must be a port number from 1 to 65535 \(got "abc"\)/],
      [['70000'], 2, /PORT must be a port number/],
      [['3000', '4000'], 2, /unexpected argument "4000"/],
      [['3000', '--domain', 'example.com'], 2, new RegExp(`example\\.com is not ${hostname.replace(/\./g, '\\.')}`)],
      [['3000', '--bogus'], 2, /unknown option --bogus/],
      [['3000', '--destination', 'http://127.0.0.1'], 2, /"http:\/\/127\.0\.0\.1" is not an IP address or host name/],
    ];
    for (const [args, code, message] of cases) {
      const result = await portway(configPath, ['http', ...args]);
      assert.equal(result.code, code, `portway http ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    const unconfigured = await portway(`${tempDir()}/config.json`, ['http', '3000']);
    assert.equal(unconfigured.code, 1);
    assert.match(unconfigured.stderr, /run `portway configure --relay URL` first/);
  });

  it('warns when nothing listens on the port yet, and serves once something does', async () => {
    const relay = await relayOnce();
    const { configPath, hostname } = await configureAgent(relay);
    const origin = await startNamedOrigin('late');
    const port = origin.port;
    await origin.close(); // the port is free again: nothing answers there
    const share = track(startQuickShare(configPath, [String(port)]));
    await share.waitFor(new RegExp(`nothing answers on localhost:${port} yet`)); // neither 127.0.0.1 nor ::1
    await share.waitFor(/Relay applied the routes/);
    assert.equal((await request(relay.port, hostname, { timeoutMs: 10_000 })).status, 502);
    const server = http.createServer((req, res) => res.end(`late ${req.url}`));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    assert.equal((await request(relay.port, hostname, { path: '/now', timeoutMs: 10_000 })).body.toString(), 'late /now');
  });

  it('stops the older of two agents sharing one identity, with a message, instead of both reconnecting forever', { timeout: 30_000 }, async () => {
    const relay = await relayOnce();
    const origin = track(await startNamedOrigin('second'));
    const { configPath, hostname } = await configureAgent(relay);
    const first = track(startAgent(configPath));
    await first.waitFor(/Connected to/);
    const second = track(startQuickShare(configPath, [String(origin.port)]));
    await second.waitFor(/Relay applied the routes/);
    assert.equal(await first.exited, 1);
    assert.match(first.lines.join('\n'), /another agent with this identity .* took over the tunnel; this one stops/);
    assert.equal((await request(relay.port, hostname, { path: '/z', timeoutMs: 10_000 })).body.toString(), 'second /z');
    assert.equal(second.child.exitCode, null, 'the newer agent keeps serving');
  });

  it('portway tcp PORT forwards a relay port for the run; the port stays allocated and the next run gets it again', async () => {
    const range = await freePortRange(5);
    const tcpRelay = track(await startRelay({ extraArgs: ['--tcp-ports', range.flag] }));
    const echo = track(await startEchoService());
    const { configPath } = await configureAgent(tcpRelay);

    const first = track(startQuickShare(configPath, [String(echo.port)], 'tcp'));
    const [, allocated] = await first.waitFor(/Allocated relay port (\d+)/);
    const port = Number(allocated);
    assert.ok(port >= range.first && port <= range.last, `port ${port} in ${range.flag}`);
    const [, address] = await first.waitFor(/Forwarding tcp:\/\/(\S+) -> 127\.0\.0\.1:\d+/);
    assert.match(address, new RegExp(`:${port}$`));
    await first.waitFor(/Relay applied the routes/);
    assert.equal((await tcpExchange(port, 'ping over tcp')).received.toString(), 'ping over tcp');
    await first.stop();
    const listed = JSON.parse((await portway(configPath, ['route', 'tcp', 'ls', '--json'])).stdout);
    assert.deepEqual(listed, [{ port, firewall: [] }], 'the allocation is recorded, the forward is not');

    const second = track(startQuickShare(configPath, [String(echo.port)], 'tcp'));
    await second.waitFor(new RegExp(`Forwarding tcp://\\S+:${port} -> `));
    await second.waitFor(/Relay applied the routes/);
    assert.ok(!second.lines.some((line) => /Allocated relay port/.test(line)), 'no second allocation');
    assert.equal((await tcpExchange(port, 'again')).received.toString(), 'again');
  });

  it('portway tcp refuses bad input with a clear message and a non-zero exit', async () => {
    const relay = await relayOnce();
    const { configPath } = await configureAgent(relay);
    const cases: [string[], RegExp][] = [
      [[], /DSTPORT is required/],
      [['0'], /DSTPORT must be a port number/],
      [['22', '--destination', 'bad host!'], /"bad host!" is not an IP address or host name/],
    ];
    for (const [args, message] of cases) {
      const result = await portway(configPath, ['tcp', ...args]);
      assert.equal(result.code, 2, `portway tcp ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
