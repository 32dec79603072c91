import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DomainMethod } from '../../protocol/control-domains';
import { TestDnsServer } from '../helpers/dns-server';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { RawAgent } from '../helpers/raw-agent';
import { getThrough } from '../helpers/relay-health';

describe('custom domains proved by DNS TXT (real relay, agent and DNS server on loopback)', () => {
  let dns: TestDnsServer;
  let relay: RelayProcess;
  let origin: TestOrigin;
  let agent: RunningProcess;
  let configPath: string;

  before(async () => {
    dns = await TestDnsServer.start();
    origin = await startOrigin();
    relay = await startRelay({ extraArgs: ['--dns-resolver', dns.address] });
    ({ configPath } = await configureAgent(relay));
  });
  after(async () => {
    await agent?.stop();
    await relay?.stop();
    await origin?.close();
    await dns?.close();
  });

  it('domain add prints the TXT record; routes on the domain are refused until it is verified', async () => {
    const added = await portway(configPath, ['domain', 'add', 'Example.Test']);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Name:\s+_portway\.example\.test/);
    assert.match(added.stdout, /Value:\s+portway-verify=\S+/);
    assert.match(added.stdout, /Not verified yet/);
    const route = await portway(configPath, ['route', 'http', 'add', '--domain', 'app.example.test', '--destination', '127.0.0.1', '--http', String(origin.port)]);
    assert.equal(route.code, 2);
    assert.match(route.stderr, /verified custom domain/);
  });

  it('domain verify checks DNS, binds the domain, and routes on it (and subdomains) are served', async () => {
    const added = await portway(configPath, ['domain', 'add', 'example.test']);
    const value = /Value:\s+(\S+)/.exec(added.stdout)![1];
    const wrong = await portway(configPath, ['domain', 'verify', 'example.test']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /not verified/);
    dns.txt.set('_portway.example.test', [[value]]);
    const verified = await portway(configPath, ['domain', 'verify', 'example.test']);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /Verified: example\.test/);
    for (const domain of ['example.test', 'app.example.test']) {
      const route = await portway(configPath, ['route', 'http', 'add', '--domain', domain, '--destination', '127.0.0.1', '--http', String(origin.port)]);
      assert.equal(route.code, 0, route.stderr);
    }
    agent = startAgent(configPath);
    await agent.waitFor(/Relay applied the routes/);
    assert.ok(!agent.lines.some((l) => /rejected|refused/i.test(l)), agent.lines.join('\n'));
    for (const host of ['example.test', 'app.example.test', 'APP.example.test.']) {
      const answer = await getThrough(relay.port, host, '/x');
      assert.equal(answer.status, 200, host);
      assert.match(answer.body, /hello from origin \/x/);
    }
    const listed = await portway(configPath, ['domain', 'ls']);
    assert.match(listed.stdout, /example\.test/);
  });

  it('another identity can neither verify, remove, use nor announce that domain', async () => {
    const { agent: intruder, answer } = await RawAgent.connect(relay.port, { mode: 'tunnel' });
    assert.equal(answer.type, 'welcome');
    // Even with a TXT record of its own published, the domain is taken.
    const challenge = await intruder.request(DomainMethod.Challenge, { domain: 'example.test' });
    assert.equal(challenge.error?.code, 'taken');
    assert.equal((await intruder.request(DomainMethod.Verify, { domain: 'example.test' })).error?.code, 'taken');
    assert.equal((await intruder.request(DomainMethod.Verify, { domain: 'sub.example.test' })).error?.code, 'taken');
    assert.equal((await intruder.request(DomainMethod.Remove, { domain: 'example.test' })).error?.code, 'not-owner');
    assert.deepEqual((await intruder.request(DomainMethod.List, null)).result, { domains: [] });
    assert.equal((await intruder.request(DomainMethod.Challenge, { domain: 'localhost' })).error?.code, 'invalid-domain');
    assert.equal((await intruder.request(DomainMethod.Challenge, { domain: 'x.localhost' })).error?.code, 'reserved');
    assert.equal((await intruder.request(DomainMethod.Challenge, { domain: 12 })).error?.code, 'invalid-domain');
    const from = intruder.texts.length;
    intruder.sendText({ type: 'routes', http: [{ domain: 'example.test', firewall: [] }, { domain: 'app.example.test', firewall: [] }, { domain: 'evil.example.test', firewall: [] }], tcp: [] });
    let result;
    for (let i = from; ; i++) {
      result = (await intruder.nextText(i)) as { type: string; rejected?: { route: string }[] };
      if (result.type === 'routes-result') break;
    }
    assert.deepEqual(result.rejected!.map((r) => r.route).sort(), ['app.example.test', 'evil.example.test', 'example.test']);
    assert.match((await getThrough(relay.port, 'app.example.test', '/')).body, /hello from origin/, 'still the owner');
    intruder.close();
  });

  it('an unverified domain is not routed; domain rm gives a domain up', async () => {
    assert.equal((await getThrough(relay.port, 'other.test', '/')).status, 404);
    const removed = await portway(configPath, ['domain', 'rm', 'example.test']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /no longer served: example\.test, app\.example\.test/);
    assert.equal((await getThrough(relay.port, 'app.example.test', '/')).status, 404);
    const route = await portway(configPath, ['route', 'http', 'add', '--domain', 'new.example.test', '--destination', '127.0.0.1', '--http', String(origin.port)]);
    assert.equal(route.code, 2);
  });
});
