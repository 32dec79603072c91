import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import { before, describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { request } from '../helpers/http-client';
import { startOrigin } from '../helpers/origin';
import { configureAgent, portway, RELAY_BIN, startAgent, startRelay, tempDir, type RelayProcess } from '../helpers/processes';
import { createToken } from '../helpers/relay-cli';
import { adminUrlOf, scrape } from '../helpers/relay-admin';
import { applyAgentChange } from '../helpers/tunnel-fixture';

/** A GET from a chosen loopback address, for the firewall. */
function getFrom(localAddress: string, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, localAddress, path: '/', headers: { host }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

function relayCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RELAY_BIN, ...args], (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('relay admin port: /metrics and /tunnels after real traffic (real relay and agent)', () => {
  const { track } = suiteCleanups();
  let relay: RelayProcess;
  let adminUrl: string;
  let hostname: string;
  let token: string;
  const DOWNLOAD = 1_000_000;

  before(async () => {
    const dataDir = tempDir('portway-relay-');
    token = await createToken(dataDir, 'alice');
    const origin = track(await startOrigin());
    relay = track(await startRelay({ dataDir, extraArgs: ['--admin-port', '0', '--log-format', 'json'] }));
    adminUrl = await adminUrlOf(relay);
    let configPath: string;
    ({ configPath, hostname } = await configureAgent(relay, { token }));
    await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    const agent = track(startAgent(configPath));
    await agent.waitFor(/Relay applied the routes/);
    await applyAgentChange(agent, configPath, ['route', 'http', 'firewall', 'drop', '--domain', hostname, '--network', '127.0.0.3']);

    // The traffic the assertions count: 3 small requests and a download (fast path), an unknown
    // host (full path), a firewall refusal, and an agent with a wrong token.
    for (let i = 0; i < 3; i++) assert.equal((await request(relay.port, hostname)).status, 200);
    const download = await request(relay.port, hostname, { path: `/big?bytes=${DOWNLOAD}` });
    assert.equal(download.body.length, DOWNLOAD);
    assert.equal((await request(relay.port, 'nobody.localhost')).status, 404);
    assert.equal(await getFrom('127.0.0.3', relay.port, hostname), 403);
    const wrong = await portway(`${tempDir()}/config.json`, ['configure', '--relay', relay.url, '--token', `pw_${'x'.repeat(43)}`]);
    assert.notEqual(wrong.code, 0);
  });

  it('counts tunnels, requests by status code, bytes, agent sessions and firewall refusals', async () => {
    const m = await scrape(adminUrl);
    assert.equal(m.get('portway_tunnels'), 1);
    assert.equal(m.get('portway_http_requests_total{code="200"}'), 4);
    assert.equal(m.get('portway_http_requests_total{code="404"}'), 1);
    assert.equal(m.get('portway_http_requests_total{code="403"}'), 1);
    assert.equal(m.get('portway_firewall_refusals_total'), 1);
    // `configure` logs in too (to learn its hostname), so at least the running agent's session.
    assert.ok(m.get('portway_agent_sessions_total{result="accepted"}')! >= 1);
    assert.equal(m.get('portway_agent_sessions_total{result="unauthorized"}'), 1);
    assert.ok(m.get('portway_bytes_total{direction="out"}')! > DOWNLOAD, 'the download is counted');
    assert.ok(m.get('portway_bytes_total{direction="in"}')! > 0);
    assert.equal(m.get('portway_streams'), 0, 'nothing in flight');
    assert.equal(m.get('portway_tcp_connections_total'), 0);
    assert.ok(m.has('process_resident_memory_bytes'), 'default Node process metrics are included');
  });

  it('/tunnels lists who is online, with the token’s name and never the token', async () => {
    const response = await fetch(`${adminUrl}/tunnels`);
    const text = await response.text();
    assert.ok(!text.includes(token), 'the token never appears');
    const { tunnels } = JSON.parse(text) as { tunnels: Record<string, unknown>[] };
    assert.equal(tunnels.length, 1);
    const [t] = tunnels as [{ hostname: string; token: { name: string; id: string }; agentAddress: string; bytesOut: number; routes: { http: string[] }; connectedSince: string }];
    assert.equal(t.hostname, hostname);
    assert.equal(t.token.name, 'alice');
    assert.match(t.token.id, /\S/);
    assert.equal(t.agentAddress, '127.0.0.1');
    assert.ok(t.bytesOut > DOWNLOAD);
    assert.deepEqual(t.routes.http, [hostname]);
    assert.ok(!Number.isNaN(Date.parse(t.connectedSince)));
  });

  it('portway-relay tunnels ls prints the same, as a table or JSON', async () => {
    const table = await relayCli(['tunnels', 'ls', '--admin', adminUrl]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^${hostname.replace(/\./g, '\\.')}\\s+alice `, 'm'));
    const json = await relayCli(['tunnels', 'ls', '--json', '--admin', adminUrl]);
    assert.equal((JSON.parse(json.stdout) as { tunnels: unknown[] }).tunnels.length, 1);
    const missing = await relayCli(['tunnels', 'ls']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--admin URL is required/);
  });

  it('logs one JSON object a line, with the agent’s hostname and token id as fields', () => {
    const online = relay.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => /^agent online/.test(String(entry.msg)));
    assert.ok(online, 'an "agent online" entry');
    assert.equal(online.level, 'info');
    assert.equal(online.hostname, hostname);
    assert.match(String(online.tokenId), /\S/);
    assert.ok(!Number.isNaN(Date.parse(String(online.time))));
  });
});
