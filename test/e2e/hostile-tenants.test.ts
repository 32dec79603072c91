import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { configureAgent, portway, startAgent, type RunningProcess } from '../helpers/processes';

interface Tenant {
  name: string;
  hostname: string;
  origin: http.Server;
  agent: RunningProcess;
}

/** An origin that answers with its tenant's name and echoes the request id, after a random short delay. */
async function tenantOrigin(name: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const reply = () => res.end(JSON.stringify({ tenant: name, id: new URL(req.url ?? '/', 'http://x').searchParams.get('id'), host: req.headers['x-forwarded-host'] }));
    if (Math.random() < 0.5) setImmediate(reply);
    else reply();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function get(port: number, host: string, path: string, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { host }, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe('tenant isolation under concurrent load', () => {
  let fx: HostileFixture;
  const tenants: Tenant[] = [];

  before(async () => {
    fx = await startHostileFixture();
    for (const name of ['tenant-a', 'tenant-b']) {
      const origin = await tenantOrigin(name);
      const { configPath, hostname } = await configureAgent(fx.relay, { hostname: name });
      const port = (origin.address() as AddressInfo).port;
      await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(port)]);
      const agent = startAgent(configPath);
      await agent.waitFor(/Connected to/);
      tenants.push({ name, hostname, origin, agent });
    }
  });
  after(async () => {
    for (const t of tenants) {
      await t.agent.stop();
      await new Promise<void>((resolve) => t.origin.close(() => resolve()));
    }
    await fx?.stop();
  });

  it('every response comes from the tenant the request was for (2 agents, 2000 interleaved requests, shared connections)', async () => {
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64 });
    try {
      const requests = Array.from({ length: 2000 }, (_, i) => {
        const tenant = tenants[i % 2 === 0 ? 0 : 1];
        // Alternate between the plain name and subdomain forms so both routes are exercised.
        const host = i % 4 < 2 ? tenant.hostname : tenant.hostname.toUpperCase();
        return get(fx.relay.port, host, `/?id=${i}`, keepAlive).then((body) => ({ i, tenant, body }));
      });
      const results = await Promise.all(requests);
      for (const { i, tenant, body } of results) {
        const answer = JSON.parse(body) as { tenant: string; id: string };
        assert.equal(answer.tenant, tenant.name, `request ${i} reached ${answer.tenant}`);
        assert.equal(answer.id, String(i), `request ${i} got the answer to ${answer.id}`);
      }
    } finally {
      keepAlive.destroy();
    }
    await fx.healthy();
  });
});
