import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from '../../protocol/control';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { configureAgent, portway, startAgent } from '../helpers/processes';
import { RawAgent } from '../helpers/raw-agent';
import { getThrough } from '../helpers/relay-health';

const KEY = 'k'.repeat(40);

describe('hostile logins and hostname takeover (real relay on loopback)', () => {
  let fx: HostileFixture;

  before(async () => {
    fx = await startHostileFixture({ authKey: KEY });
  });
  after(async () => fx?.stop());

  it('rate-limits brute-forced credentials per address, refusing even the right key while limited', async () => {
    const attacker = '127.0.0.30';
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { agent, answer } = await RawAgent.connect(fx.relay.port, { auth: `guess-${i}-${'x'.repeat(40)}`, localAddress: attacker });
      codes.push((answer as { code: string }).code);
      await agent.closed;
    }
    assert.deepEqual(codes.slice(0, 10), Array(10).fill('unauthorized'));
    assert.deepEqual(codes.slice(10), ['rate-limited', 'rate-limited']);
    const right = await RawAgent.connect(fx.relay.port, { auth: KEY, localAddress: attacker, mode: 'control' });
    assert.equal((right.answer as { code: string }).code, 'rate-limited');
    assert.match((right.answer as { message: string }).message, /too many failed logins.*try again in \d+ s/);
    assert.equal((await right.agent.closed).code, CloseCode.RateLimited);
    // Someone else is not affected.
    const other = await RawAgent.connect(fx.relay.port, { auth: KEY, localAddress: '127.0.0.31', mode: 'control' });
    assert.equal(other.answer.type, 'welcome');
    other.agent.close();
    assert.ok(!fx.relay.lines.some((line) => line.includes('guess-') || line.includes(KEY)), 'presented secrets never reach the log');
    await fx.healthy();
  });

  it('a second identity cannot take an assigned hostname, by hello or by announcing its routes', async () => {
    const owner = fx.canary.hostname;
    const label = owner.split('.')[0];
    const taken = await RawAgent.connect(fx.relay.port, { auth: KEY, requestedHostname: label });
    assert.equal((taken.answer as { code: string }).code, 'hostname-taken');
    assert.equal((await taken.agent.closed).code, CloseCode.HostnameTaken);
    const { agent: intruder } = await RawAgent.connect(fx.relay.port, { auth: KEY });
    intruder.sendText({ type: 'routes', http: [{ domain: owner, firewall: [] }, { domain: `api.${owner}`, firewall: [] }, { domain: 'localhost', firewall: [] }], tcp: [] });
    const result = (await intruder.nextText(1)) as { type: string; rejected: { route: string }[] };
    assert.equal(result.type, 'routes-result');
    assert.deepEqual(result.rejected.map((r) => r.route).sort(), [`api.${owner}`, 'localhost', owner].sort());
    const answer = await getThrough(fx.relay.port, owner);
    assert.ok(answer.body.includes('hello from origin'), 'the owner still serves its name');
    intruder.close();
    await fx.healthy();
  });

  it('nobody can claim a name while its owner is reconnecting; the owner gets it back', async () => {
    const { configPath, hostname } = await configureAgent(fx.relay, { token: KEY, hostname: 'precious' });
    await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(fx.origin.port)]);
    let owner = startAgent(configPath);
    await owner.waitFor(/Connected to/);
    const from = fx.relay.lines.length;
    await owner.stop('SIGKILL');
    await fx.relay.waitFor(/agent offline: precious\.localhost/, 10_000, from);
    // The owner is away: a second identity tries every way in.
    for (const requested of ['precious', 'precious.localhost', 'PRECIOUS', 'precious.localhost.']) {
      const attempt = await RawAgent.connect(fx.relay.port, { auth: KEY, requestedHostname: requested });
      assert.equal((attempt.answer as { code: string }).code, 'hostname-taken', requested);
    }
    const { agent: squatter } = await RawAgent.connect(fx.relay.port, { auth: KEY });
    squatter.sendText({ type: 'routes', http: [{ domain: hostname, firewall: [] }], tcp: [] });
    const result = (await squatter.nextText(1)) as { rejected: { route: string }[] };
    assert.deepEqual(result.rejected.map((r) => r.route), [hostname]);
    assert.equal((await getThrough(fx.relay.port, hostname)).status, 502, 'offline, not served by someone else');
    owner = startAgent(configPath);
    try {
      await owner.waitFor(/Connected to .* as precious\.localhost/);
      assert.ok((await getThrough(fx.relay.port, hostname)).body.includes('hello from origin'));
    } finally {
      squatter.close();
      await owner.stop();
    }
    await fx.healthy();
  });
});
