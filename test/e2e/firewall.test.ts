import assert from 'node:assert/strict';
import * as http from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startTunnel, type TunnelFixture } from '../helpers/tunnel-fixture';
import { portway, type RelayProcess } from '../helpers/processes';

/** A request from a chosen loopback source address (127.0.0.x), so rules can tell clients apart. */
function fetchFrom(localAddress: string, port: number, host: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', localAddress, headers: { host, ...headers }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

describe('per-route firewall, enforced by the relay (real processes on loopback)', () => {
  let relay: RelayProcess;
  let configPath: string;
  let hostname: string;

  let fx: TunnelFixture;

  before(async () => {
    fx = await startTunnel();
    ({ relay, configPath, hostname } = fx);
  });
  after(async () => fx?.stop());

  const change = (args: string[]) => fx.change(args);

  it('drop-only: the dropped address gets 403, others pass, live without restart', async () => {
    assert.equal(await fetchFrom('127.0.0.2', relay.port, hostname), 200);
    await change(['route', 'http', 'firewall', 'drop', '--domain', hostname, '--network', '127.0.0.2']);
    assert.equal(await fetchFrom('127.0.0.2', relay.port, hostname), 403);
    assert.equal(await fetchFrom('127.0.0.3', relay.port, hostname), 200);
  });

  it('X-Forwarded-For from an untrusted peer does not bypass a drop', async () => {
    assert.equal(await fetchFrom('127.0.0.2', relay.port, hostname, { 'x-forwarded-for': '127.0.0.3' }), 403);
    assert.equal(await fetchFrom('127.0.0.2', relay.port, hostname, { forwarded: 'for=127.0.0.3' }), 403);
  });

  it('every Host form of the route meets its rules', async () => {
    for (const form of [hostname.toUpperCase(), `${hostname}.`, `${hostname}:${relay.port}`]) {
      assert.equal(await fetchFrom('127.0.0.2', relay.port, form), 403, form);
    }
  });

  it('WebSocket upgrades meet the same rules', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/`, { headers: { host: hostname }, localAddress: '127.0.0.2' });
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    assert.equal(status, 403);
  });

  it('allow-only: only the listed network gets in; removing the rules opens it again', async () => {
    await change(['route', 'http', 'firewall', 'rm', '--domain', hostname, '--network', '127.0.0.2']);
    await change(['route', 'http', 'firewall', 'allow', '--domain', hostname, '--network', '127.0.0.4/31']);
    assert.equal(await fetchFrom('127.0.0.4', relay.port, hostname), 200);
    assert.equal(await fetchFrom('127.0.0.5', relay.port, hostname), 200);
    assert.equal(await fetchFrom('127.0.0.6', relay.port, hostname), 403);
    assert.equal(await fetchFrom('127.0.0.1', relay.port, hostname), 403);
    const listed = await portway(configPath, ['route', 'http', 'firewall', 'ls', '--domain', hostname]);
    assert.match(listed.stdout, /allow\s+\|\s+127\.0\.0\.4\/31/);
    await change(['route', 'http', 'firewall', 'rm', '--domain', hostname, '--network', '127.0.0.4/31']);
    assert.equal(await fetchFrom('127.0.0.6', relay.port, hostname), 200);
  });

  it('refuses a malformed network at the CLI with nothing changed', async () => {
    const result = await portway(configPath, ['route', 'http', 'firewall', 'drop', '--domain', hostname, '--network', '10.0.0.1/8']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /10\.0\.0\.0\/8/);
  });
});
