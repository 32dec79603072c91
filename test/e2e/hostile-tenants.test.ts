import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Socket } from 'node:net';
import { CloseCode } from '../../protocol/control';
import { Flag, FrameType, GoAwayCode } from '../../protocol/frame';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { configureAgent, portway, startAgent, type RunningProcess } from '../helpers/processes';
import { RawAgent } from '../helpers/raw-agent';
import type { TokenUsageRow } from '../../relay/src/security/token-command';
import { adminUrlOf } from '../helpers/relay-admin';
import { createToken, portwayRelay } from '../helpers/relay-cli';
import { uploadThrough } from '../helpers/visitor-upload';

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

const AUTH_KEY = 'canary-auth-key-0123456789abcdef0123';

describe('one token cannot make the relay keep without bound (real relay, raw agents with a valid token)', () => {
  let fx: HostileFixture;

  before(async () => {
    // The canary uses the AUTH_KEY: creating tokens does not lock it out.
    fx = await startHostileFixture({ authKey: AUTH_KEY, relayArgs: ['--max-identities-per-token', '3', '--admin-port', '0'] });
  });
  after(async () => fx?.stop());

  /** Creates a token and waits until the running relay loaded it. */
  async function tokenFor(name: string, extra: string[] = []): Promise<string> {
    const from = fx.relay.lines.length;
    const token = await createToken(fx.relay.dataDir, name, extra);
    await fx.relay.waitFor(new RegExp(`token added: ${name} `), 10_000, from);
    return token;
  }

  function identitiesOnDisk(): number {
    const file = JSON.parse(fs.readFileSync(path.join(fx.relay.dataDir, 'identities.json'), 'utf8')) as { identities: object };
    return Object.keys(file.identities).length;
  }

  it('refuses a fresh identity past the token\'s --max-identities (and the relay default) with limit-reached; known identities still connect', async () => {
    const own = await tokenFor('identity-own', ['--max-identities', '2']);
    const byDefault = await tokenFor('identity-default');
    const before = identitiesOnDisk();
    const { result } = await fx.throughout(async () => {
      const identities = ['a', 'b', 'c', 'd'].map((c) => c.repeat(32));
      const answers: string[] = [];
      // What `portway configure` does (a control-mode hello) and what `start` does (a tunnel).
      for (const [i, identity] of identities.entries()) {
        const { agent, answer } = await RawAgent.connect(fx.relay.port, { identity, auth: own, mode: i % 2 === 0 ? 'control' : 'tunnel' });
        answers.push(answer.type === 'refused' ? `refused ${answer.code}: ${answer.message}` : answer.type);
        if (answer.type === 'refused') assert.equal((await agent.closed).code, CloseCode.LimitReached);
        agent.close();
      }
      const again = await RawAgent.connect(fx.relay.port, { identity: identities[0], auth: own });
      answers.push(again.answer.type);
      again.agent.close();
      for (let i = 0; i < 4; i++) {
        const { agent, answer } = await RawAgent.connect(fx.relay.port, { auth: byDefault, mode: 'control' });
        answers.push(answer.type === 'refused' ? answer.code : answer.type);
        agent.close();
      }
      return answers;
    });
    assert.deepEqual(result.slice(0, 2), ['welcome', 'welcome']);
    for (const refusal of result.slice(2, 4)) assert.match(refusal, /^refused limit-reached: token "identity-own" allows 2 agent identities and holds 2/);
    assert.equal(result[4], 'welcome', 'a known identity reconnects');
    assert.deepEqual(result.slice(5), ['welcome', 'welcome', 'welcome', 'limit-reached'], 'the relay default (3) for a token without its own');
    assert.equal(identitiesOnDisk(), before + 5, 'refused identities are not persisted');
    await fx.healthy();
  });

  it('an agent that says GoAway but keeps its WebSocket open stops counting at once and is cut after a grace', async () => {
    const token = await tokenFor('goodbye', ['--max-tunnels', '1']);
    await fx.throughout(async () => {
      const first = await RawAgent.connect(fx.relay.port, { auth: token });
      assert.equal(first.answer.type, 'welcome');
      const hostname = (first.answer as { hostname: string }).hostname;
      const from = fx.relay.lines.length;
      first.agent.sendFrame(FrameType.GoAway, 0, 0, GoAwayCode.Normal);
      // It reads nothing more, so it never answers the relay's close.
      (first.agent.ws as unknown as { _socket: Socket })._socket.pause();
      await fx.relay.waitFor(new RegExp(`agent offline: ${escape(hostname)} \\(peer went away`), 10_000, from);
      const second = await RawAgent.connect(fx.relay.port, { auth: token });
      assert.equal(second.answer.type, 'welcome', 'the departed session no longer counts against --max-tunnels 1');
      await fx.relay.waitFor(new RegExp(`cut the WebSocket of ${escape(hostname)}: the session ended`), 10_000, from);
      (first.agent.ws as unknown as { _socket: Socket })._socket.resume();
      await first.agent.closed;
      second.agent.close();
    });
    await fx.healthy();
  });

  it('token ls shows per token the identities it holds, tunnels online, bytes and refusals in the last hour', async () => {
    const token = await tokenFor('usage', ['--max-tunnels', '1', '--max-identities', '2']);
    const online = await RawAgent.connect(fx.relay.port, { auth: token });
    assert.equal(online.answer.type, 'welcome');
    const hostname = (online.answer as { hostname: string }).hostname;
    const otherIdentity = 'o'.repeat(32);
    const configured = await RawAgent.connect(fx.relay.port, { auth: token, identity: otherIdentity, mode: 'control' });
    assert.equal(configured.answer.type, 'welcome');
    configured.agent.close();
    // Two refusals: a second tunnel (--max-tunnels 1), a third identity (--max-identities 2).
    for (const options of [{ identity: otherIdentity }, { mode: 'control' as const }]) {
      const { agent, answer } = await RawAgent.connect(fx.relay.port, { auth: token, ...options });
      assert.equal(answer.type === 'refused' && answer.code, 'limit-reached');
      agent.close();
    }
    // A visitor's upload reaches the agent, which resets the stream: its bytes count once it ended.
    const upload = uploadThrough(fx.relay.port, hostname, 100_000);
    const syn = await online.agent.waitForFrame((f) => f.type === FrameType.Data && (f.flags & Flag.SYN) !== 0);
    await online.agent.waitForFrames(1, () => online.agent.frames.reduce((n, f) => n + (f.streamId === syn.streamId ? f.payload.length : 0), 0) >= 100_000);
    online.agent.sendFrame(FrameType.WindowUpdate, Flag.ACK | Flag.RST, syn.streamId, 0);
    assert.equal(await upload, 502);

    const row = (await tokenLs(fx)).find((r) => r.name === 'usage');
    assert.ok(row, 'the token is listed');
    assert.equal(row.identities, 2);
    assert.equal(row.tunnelsOnline, 1);
    assert.equal(row.refusalsLastHour, 2);
    assert.ok(row.bytesLastHour! >= 100_000, `bytes ${row.bytesLastHour}`);
    online.agent.close();
    await fx.healthy();
  });
});

/** `portway-relay token ls --json` against the running relay's data dir and admin port. */
async function tokenLs(fx: HostileFixture): Promise<TokenUsageRow[]> {
  const result = await portwayRelay(['token', 'ls', '--json', '--data-dir', fx.relay.dataDir, '--admin', await adminUrlOf(fx.relay)]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as TokenUsageRow[];
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
