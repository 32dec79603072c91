import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { DomainMethod } from '../../protocol/control-domains';
import { DOMAIN_VERIFY_BURST } from '../../relay/src/security/security-options';
import { TestDnsServer } from '../helpers/dns-server';
import { configureAgent, portway, startRelay, tempDir, type CliResult, type RelayProcess } from '../helpers/processes';
import { RawAgent } from '../helpers/raw-agent';
import { createToken } from '../helpers/relay-cli';

/** The refill test's interval: short enough to wait for one refill. */
const INTERVAL_MS = 3_000;
/** The refusal test's interval: nothing refills while it runs, however slowly a busy machine starts a CLI. */
const NO_REFILL_MS = 3_600_000;
const RATE_LIMITED = /too many verification attempts; retry in \d+ s/;

describe('custom-domain verification is rate-limited per token (real relay, agents and DNS server)', () => {
  let dns: TestDnsServer;
  const relays: RelayProcess[] = [];

  /** A relay of its own with tokens for alice and bob and an agent configured for each. */
  async function relayWithTeam(intervalMs: number) {
    const dataDir = tempDir('portway-relay-');
    const aliceToken = await createToken(dataDir, 'alice');
    const bobToken = await createToken(dataDir, 'bob');
    const relay = await startRelay({ dataDir, extraArgs: ['--dns-resolver', dns.address, '--domain-verify-interval-ms', String(intervalMs)] });
    relays.push(relay);
    const alice = (await configureAgent(relay, { token: aliceToken })).configPath;
    const bob = (await configureAgent(relay, { token: bobToken })).configPath;
    return { relay, aliceToken, alice, bob };
  }

  before(async () => {
    dns = await TestDnsServer.start();
  });
  after(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await dns?.close();
  });

  const lookupsOf = (name: string) => dns.queries.filter((q) => q.name.toLowerCase() === name).length;

  it('refuses lookups beyond the burst with a coded error, for every agent of the token; others get through', async () => {
    const { relay, aliceToken, alice, bob } = await relayWithTeam(NO_REFILL_MS);
    // Another agent identity on alice's token spends the token's burst.
    const { agent: raw, answer } = await RawAgent.connect(relay.port, { auth: aliceToken, mode: 'control' });
    assert.equal(answer.type, 'welcome');
    let allowed = 0;
    let refused: { code: string; message: string } | undefined;
    for (let i = 0; i < DOMAIN_VERIFY_BURST + 3 && !refused; i++) {
      const reply = await raw.request(DomainMethod.Verify, { domain: 'alice.test' });
      if (reply.error?.code === 'rate-limited') refused = reply.error;
      else {
        assert.equal(reply.error?.code, 'nxdomain', JSON.stringify(reply));
        allowed++;
      }
    }
    raw.close();
    assert.equal(allowed, DOMAIN_VERIFY_BURST);
    assert.match(refused?.message ?? '', RATE_LIMITED);
    assert.equal(lookupsOf('_portway.alice.test'), DOMAIN_VERIFY_BURST, 'a refused attempt makes no DNS query');

    // The CLI of alice's own agent (another identity, same token) is refused with the message.
    const limited = await portway(alice, ['domain', 'verify', 'alice.test']);
    assert.notEqual(limited.code, 0);
    assert.match(limited.stderr, RATE_LIMITED);
    assert.equal(lookupsOf('_portway.alice.test'), DOMAIN_VERIFY_BURST);
    const listed = await portway(alice, ['domain', 'ls']);
    assert.equal(listed.code, 0, `other domain requests still work: ${listed.stderr}`);

    // Bob's token has a budget of its own.
    const added = await portway(bob, ['domain', 'add', 'bob.test']);
    assert.equal(added.code, 0, added.stderr);
    dns.txt.set('_portway.bob.test', [[/Value:\s+(\S+)/.exec(added.stdout)![1]]]);
    const verified = await portway(bob, ['domain', 'verify', 'bob.test']);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /Verified: bob\.test/);
  });

  it('allows a lookup again once the budget has refilled', async () => {
    const { relay, aliceToken, alice } = await relayWithTeam(INTERVAL_MS);
    const challenge = await portway(alice, ['domain', 'add', 'alice.test']); // prints the record before it verifies
    dns.txt.set('_portway.alice.test', [[/Value:\s+(\S+)/.exec(challenge.stdout)![1]]]);
    assert.ok(await spendUntilRefused(relay, aliceToken, 'alice.test'), 'the budget is empty now');
    // Retried briefly until the relay lets a lookup through: about one interval, bounded at four.
    const deadline = Date.now() + 4 * INTERVAL_MS;
    let result: CliResult;
    for (;;) {
      result = await portway(alice, ['domain', 'verify', 'alice.test']);
      if (!RATE_LIMITED.test(result.stderr) || Date.now() > deadline) break;
      await delay(250);
    }
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Verified: alice\.test/);
  });

  /** Spends a token's remaining lookups from a fresh agent identity; true once one is refused. */
  async function spendUntilRefused(relay: RelayProcess, token: string, domain: string): Promise<boolean> {
    const { agent } = await RawAgent.connect(relay.port, { auth: token, mode: 'control' });
    try {
      for (let i = 0; i <= DOMAIN_VERIFY_BURST; i++) {
        if ((await agent.request(DomainMethod.Verify, { domain })).error?.code === 'rate-limited') return true;
      }
      return false;
    } finally {
      agent.close();
    }
  }
});
