import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Firewall, FirewallRule, FirewallRuleError, MAX_FIREWALL_RULES, parseNetwork } from '../../relay/src/security/firewall';
import { normalizeAddress, parseAddress } from '../../common/net/client-address';

const allow = (network: string): FirewallRule => ({ action: 'allow', network });
const drop = (network: string): FirewallRule => ({ action: 'drop', network });

describe('normalizeAddress', () => {
  const cases: [string, string][] = [
    ['1.2.3.4', '1.2.3.4'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:1.2.3.4', '1.2.3.4'],
    ['::ffff:102:304', '1.2.3.4'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    // Not addresses: returned as they came, never folded into something a rule would match.
    ['0x7f.0.0.1', '0x7f.0.0.1'],
    ['127.1', '127.1'],
    ['010.0.0.1', '010.0.0.1'],
    ['::ffff:01.2.3.4', '::ffff:01.2.3.4'],
    ['', ''],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.equal(normalizeAddress(input), expected));
  }
  it('refuses absurdly long text without parsing it', () => assert.equal(parseAddress('1'.repeat(10_000)), undefined));
});

describe('parseNetwork', () => {
  const valid: [string, string][] = [
    ['1.2.3.4', '1.2.3.4'],
    [' 10.0.0.0/8 ', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['192.168.1.0/24', '192.168.1.0/24'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:db8::1/128', '2001:db8::1'],
    ['::/0', '::/0'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['10.1.2.3/32', '10.1.2.3'],
  ];
  for (const [input, canonical] of valid) {
    it(`accepts ${JSON.stringify(input)} as ${canonical}`, () => assert.equal(parseNetwork(input).toString(), canonical));
  }
  const invalid: [string, RegExp][] = [
    ['', /empty/],
    ['10.0.0.0/33', /prefix length from 0 to 32/],
    ['2001:db8::/129', /prefix length from 0 to 128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/-1', /prefix length/],
    ['10.0.0.0/08', /prefix length/],
    ['10.0.0.0/8/8', /prefix length/],
    ['10.0.0.0/ 8', /prefix length/],
    ['10.0.0.1/8', /host bits set; did you mean 10\.0\.0\.0\/8\?/],
    ['2001:db8::1/32', /did you mean 2001:db8::\/32\?/],
    ['256.0.0.1', /not an IPv4 or IPv6 address/],
    ['1.2.3', /not an IPv4 or IPv6 address/],
    ['0x7f.0.0.1', /not an IPv4 or IPv6 address/],
    ['example.com', /not an IPv4 or IPv6 address/],
    ['1::2::3', /not an IPv4 or IPv6 address/],
    ['*', /not an IPv4 or IPv6 address/],
    ['x'.repeat(500), /too long/],
  ];
  for (const [input, message] of invalid) {
    it(`refuses ${JSON.stringify(input.slice(0, 20))}`, () => {
      assert.throws(() => parseNetwork(input), (err: unknown) => err instanceof FirewallRuleError && message.test(err.message));
    });
  }
});

describe('Firewall', () => {
  type Case = { name: string; rules: FirewallRule[]; allowed: string[]; dropped: string[] };
  const cases: Case[] = [
    { name: 'no rules allow everyone', rules: [], allowed: ['1.2.3.4', '::1', '::ffff:9.9.9.9'], dropped: [] },
    {
      name: 'allow-only drops everything unlisted',
      rules: [allow('10.0.0.0/8'), allow('2001:db8::/32')],
      allowed: ['10.1.2.3', '::ffff:10.1.2.3', '2001:db8::5', '2001:DB8::5'],
      dropped: ['11.0.0.1', '::ffff:11.0.0.1', '2001:db9::1', '::1', '127.0.0.1'],
    },
    {
      name: 'drop-only allows everything unlisted',
      rules: [drop('203.0.113.7'), drop('2001:db8::/48')],
      allowed: ['203.0.113.8', '2001:db8:1::1', '::1'],
      dropped: ['203.0.113.7', '::ffff:203.0.113.7', '::FFFF:CB00:7107', '2001:db8:0:ffff::1'],
    },
    {
      name: 'mixed: first match wins, default drop since an allow exists',
      rules: [drop('10.0.0.5'), allow('10.0.0.0/24')],
      allowed: ['10.0.0.1', '10.0.0.255'],
      dropped: ['10.0.0.5', '::ffff:10.0.0.5', '10.0.1.1', '8.8.8.8'],
    },
    {
      name: 'mixed: an earlier allow beats a later drop',
      rules: [allow('10.0.0.5'), drop('10.0.0.0/24')],
      allowed: ['10.0.0.5'],
      dropped: ['10.0.0.6', '192.0.2.1'],
    },
    {
      name: 'a mapped IPv6 rule catches IPv4 clients',
      rules: [drop('::ffff:198.51.100.0/120')],
      allowed: ['198.51.101.1', '2001:db8::1'],
      dropped: ['198.51.100.9', '::ffff:198.51.100.9'],
    },
    {
      name: '::ffff:0:0/96 is every IPv4 client and nothing else',
      rules: [allow('::ffff:0:0/96')],
      allowed: ['1.1.1.1', '::ffff:8.8.8.8', '127.0.0.1'],
      dropped: ['::1', '2001:db8::1'],
    },
    {
      name: '0.0.0.0/0 and ::/0 each cover only their family',
      rules: [drop('0.0.0.0/0')],
      allowed: ['::1', 'fe80::1%lo'],
      dropped: ['127.0.0.1', '::ffff:127.0.0.1'],
    },
    {
      name: '::/0 does not reach IPv4 clients',
      rules: [allow('::/0')],
      allowed: ['::1', '2001:db8::1'],
      dropped: ['127.0.0.1', '::ffff:127.0.0.1'],
    },
    {
      name: 'odd prefix lengths split inside a byte',
      rules: [allow('192.168.0.0/23'), allow('2001:db8:8000::/33')],
      allowed: ['192.168.0.1', '192.168.1.254', '2001:db8:8000::1', '2001:db8:ffff::1'],
      dropped: ['192.168.2.1', '192.167.255.255', '2001:db8:7fff::1'],
    },
    {
      name: 'lax IPv4 forms never match (and are dropped when rules exist)',
      rules: [drop('127.0.0.1')],
      allowed: ['127.0.0.2'],
      dropped: ['0x7f.0.0.1', '127.1', '2130706433', 'not-an-address', ''],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const firewall = new Firewall(c.rules);
      for (const address of c.allowed) assert.equal(firewall.allows(address), true, `${address} should be allowed`);
      for (const address of c.dropped) assert.equal(firewall.allows(address), false, `${address} should be dropped`);
    });
  }

  it('reports which rule decided, in canonical form', () => {
    const firewall = new Firewall([drop('10.0.0.5'), allow('::ffff:10.0.0.0/120')]);
    assert.deepEqual(firewall.rules, [drop('10.0.0.5'), allow('10.0.0.0/24')]);
    assert.equal(firewall.defaultAction, 'drop');
    assert.deepEqual(firewall.decide('10.0.0.5'), { allowed: false, rule: drop('10.0.0.5') });
    assert.deepEqual(firewall.decide('::ffff:10.0.0.6'), { allowed: true, rule: allow('10.0.0.0/24') });
    assert.deepEqual(firewall.decide('10.0.1.1'), { allowed: false });
    assert.equal(new Firewall([drop('1.2.3.4')]).defaultAction, 'allow');
  });

  it('names the bad rule in a list', () => {
    assert.throws(
      () => new Firewall([allow('10.0.0.0/8'), drop('10.0.0.0/40')]),
      (err: unknown) => err instanceof FirewallRuleError && err.index === 1 && /^rule 2: invalid network/.test(err.message),
    );
  });

  it('refuses rules that are not well-formed objects (they come over the wire)', () => {
    const bad: unknown[] = [
      [{ action: 'deny', network: '1.2.3.4' }],
      [{ action: 'allow' }],
      [{ action: 'allow', network: 42 }],
      [null],
      ['allow 1.2.3.4'],
      'not a list',
    ];
    for (const rules of bad) {
      assert.throws(() => new Firewall(rules as FirewallRule[]), FirewallRuleError, JSON.stringify(rules));
    }
  });

  it('caps the number of rules', () => {
    const rules = Array.from({ length: MAX_FIREWALL_RULES + 1 }, (_, i) => drop(`10.${i >> 8}.${i & 255}.1`));
    assert.throws(() => new Firewall(rules), /too many firewall rules/);
    assert.doesNotThrow(() => new Firewall(rules.slice(0, MAX_FIREWALL_RULES)));
  });

  it('does not share state with the array it was given', () => {
    const rules = [allow('10.0.0.0/8')];
    const firewall = new Firewall(rules);
    rules.push(allow('0.0.0.0/0'));
    assert.equal(firewall.allows('8.8.8.8'), false);
    assert.throws(() => (firewall.rules as FirewallRule[]).push(allow('8.8.8.8')));
  });
});
