import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { request } from '../helpers/http-client';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { configureAgent, portway, startAgent, startRelay, tempDir, type RelayProcess, type RunningProcess } from '../helpers/processes';

const KEY = 'k'.repeat(20) + '-a-long-enough-test-key';

describe('tunnel lifecycle (real processes on loopback)', () => {
  const { track } = suiteCleanups();

  it('reconnects after the relay is killed and restarted, keeping its hostname', async () => {
    const origin: TestOrigin = track(await startOrigin());
    const dataDir = tempDir('portway-relay-');
    let relay: RelayProcess = await startRelay({ dataDir });
    const port = relay.port;
    const { configPath, hostname } = await configureAgent(relay);
    await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    const agent: RunningProcess = track(startAgent(configPath));
    await agent.waitFor(/Connected to/);
    assert.equal((await request(port, hostname, { path: '/before' })).body.toString(), 'hello from origin /before');

    await relay.stop('SIGKILL');
    await agent.waitFor(/Disconnected: /);
    const reconnectFrom = agent.lines.length;
    relay = track(await startRelay({ dataDir, port }));
    const [, sameName] = await agent.waitFor(/Connected to .* as (\S+)/, 40_000, reconnectFrom);
    assert.equal(sameName, hostname);
    const res = await request(port, hostname, { path: '/after' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'hello from origin /after');
  });

  it('answers 502 "tunnel offline" for a known hostname whose agent is stopped', async () => {
    const relay = track(await startRelay());
    const { configPath, hostname } = await configureAgent(relay);
    const agent = startAgent(configPath);
    await agent.waitFor(/Connected to/);
    assert.equal((await request(relay.port, hostname)).status, 200, 'built-in test page while online');
    const from = relay.lines.length;
    await agent.stop();
    await relay.waitFor(new RegExp(`agent offline: ${hostname.replace(/\./g, '\\.')}`), 10_000, from);
    const res = await request(relay.port, hostname);
    assert.equal(res.status, 502);
    assert.match(res.body.toString(), /not connected/);
  });

  it('refuses a wrong auth key with a clear message and no tunnel', async () => {
    const relay = track(await startRelay({ authKey: KEY }));
    const configPath = `${tempDir()}/config.json`;
    const wrong = await portway(configPath, ['configure', '--relay', relay.url, '--token', 'not-the-key']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /refused the auth key/);
    const missing = await portway(configPath, ['configure', '--relay', relay.url]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /refused the auth key/);
    const health = JSON.parse((await request(relay.port, 'localhost', { path: '/_portway/health' })).body.toString());
    assert.equal(health.tunnels, 0);
    const right = await portway(configPath, ['configure', '--relay', relay.url, '--token', KEY]);
    assert.equal(right.code, 0, right.stderr);
    assert.match(right.stdout, /Hostname: /);
  });

  it('gives a requested hostname when free and refuses it to a second agent', async () => {
    const relay = track(await startRelay());
    const first = await configureAgent(relay, { hostname: 'my-demo' });
    assert.equal(first.hostname, 'my-demo.localhost');
    const second = await portway(`${tempDir()}/config.json`, ['configure', '--relay', relay.url, '--hostname', 'my-demo']);
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /taken/);
    // The owner configures again (same identity): it keeps the name.
    const again = await portway(first.configPath, ['configure', '--relay', relay.url]);
    assert.match(again.stdout, /Hostname: my-demo\.localhost/);
  });

  it('routes any subdomain of the assigned hostname to its tunnel', async () => {
    const relay = track(await startRelay());
    const origin = track(await startOrigin());
    const { configPath, hostname } = await configureAgent(relay);
    await portway(configPath, ['route', 'http', 'add', '--domain', `blog.${hostname}`, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    const agent = track(startAgent(configPath));
    await agent.waitFor(/Connected to/);
    const res = await request(relay.port, `blog.${hostname}`, { path: '/post' });
    assert.equal(res.body.toString(), 'hello from origin /post');
  });
});
