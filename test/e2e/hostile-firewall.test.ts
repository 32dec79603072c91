import assert from 'node:assert/strict';
import * as http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { applyAgentChange } from '../helpers/tunnel-fixture';

/** GET through the relay from a chosen source; the relay listens dual-stack, so IPv4 arrives as ::ffff:a.b.c.d. */
function fetchFrom(fx: HostileFixture, local: { host: string; localAddress: string }, headers: Record<string, string> = {}, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: local.host, port: fx.relay.port, path, localAddress: local.localAddress, family: local.host.includes(':') ? 6 : 4, headers: { host: fx.canary.hostname, ...headers }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

const V4 = (address: string) => ({ host: '127.0.0.1', localAddress: address });
const V6 = { host: '::1', localAddress: '::1' };

describe('firewall bypass attempts (dual-stack relay on loopback)', () => {
  let fx: HostileFixture;

  before(async () => {
    fx = await startHostileFixture({ relayArgs: ['--host', '::'] });
  });
  after(async () => fx?.stop());

  const rule = (args: string[]) => applyAgentChange(fx.canary.agent, fx.canary.configPath, ['route', 'http', 'firewall', ...args, '--domain', fx.canary.hostname]);

  it('an IPv4 rule catches IPv4-mapped IPv6 peers (::ffff:127.0.0.2)', async () => {
    assert.equal((await fetchFrom(fx, V4('127.0.0.2'))).status, 200);
    await rule(['drop', '--network', '127.0.0.2']);
    assert.equal((await fetchFrom(fx, V4('127.0.0.2'))).status, 403);
    assert.equal((await fetchFrom(fx, V4('127.0.0.3'))).status, 200);
    assert.equal((await fetchFrom(fx, V6)).status, 200);
    await fx.healthy();
  });

  it('X-Forwarded-For, Forwarded and friends from an untrusted peer change nothing', async () => {
    for (const headers of <Record<string, string>[]>[
      { 'x-forwarded-for': '127.0.0.3' },
      { 'x-forwarded-for': '127.0.0.3, 127.0.0.4' },
      { forwarded: 'for=127.0.0.3' },
      { 'x-real-ip': '127.0.0.3' },
      { 'x-forwarded-for': '::ffff:127.0.0.3' },
    ]) {
      assert.equal((await fetchFrom(fx, V4('127.0.0.2'), headers)).status, 403, JSON.stringify(headers));
    }
    // The origin sees the real peer, not the forged chain.
    const echoed = await fetchFrom(fx, V4('127.0.0.3'), { 'x-forwarded-for': '6.6.6.6' }, '/echo-headers');
    const seen = JSON.parse(echoed.body) as { headers: Record<string, string> };
    assert.ok(!seen.headers['x-forwarded-for']?.includes('6.6.6.6'), seen.headers['x-forwarded-for']);
    assert.match(seen.headers['x-forwarded-for'] ?? '', /^127\.0\.0\.3\b/);
    await fx.healthy();
  });

  it('allow-only lists: a forged header naming an allowed address does not open the door', async () => {
    await rule(['rm', '--network', '127.0.0.2']);
    await rule(['allow', '--network', '127.0.0.5']);
    assert.equal((await fetchFrom(fx, V4('127.0.0.5'))).status, 200);
    assert.equal((await fetchFrom(fx, V4('127.0.0.2'), { 'x-forwarded-for': '127.0.0.5' })).status, 403);
    assert.equal((await fetchFrom(fx, V6, { 'x-forwarded-for': '127.0.0.5', forwarded: 'for=127.0.0.5' })).status, 403);
    await rule(['allow', '--network', '::1']);
    assert.equal((await fetchFrom(fx, V6)).status, 200);
    await rule(['rm', '--network', '127.0.0.5']);
    await rule(['rm', '--network', '::1']);
    await fx.healthy();
  });
});
