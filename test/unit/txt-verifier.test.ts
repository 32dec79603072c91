import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DomainVerificationError,
  expectedTxtValue,
  TXT_VALUE_PREFIX,
  txtRecordName,
  verifyDomainTxt,
} from '../../relay/src/domains/txt-verifier';
import { DomainNameError, normalizeDomain } from '../../relay/src/domains/domain-name';
import { TestDnsServer } from '../helpers/dns-server';

describe('normalizeDomain', () => {
  const valid: [string, string][] = [
    ['example.com', 'example.com'],
    ['Example.COM.', 'example.com'],
    ['a-b.sub.example.co.uk', 'a-b.sub.example.co.uk'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['1password.com', '1password.com'],
  ];
  for (const [input, expected] of valid) it(`${input} → ${expected}`, () => assert.equal(normalizeDomain(input), expected));
  const invalid = ['', '.', 'localhost', 'example..com', '-a.com', 'a-.com', 'exa_mple.com', 'a b.com', '1.2.3.4', '*.example.com', 'example.com/x', 'a'.repeat(64) + '.com', `${'a'.repeat(60)}.`.repeat(5) + 'com', '::1'];
  for (const input of invalid) it(`refuses ${JSON.stringify(input.slice(0, 30))}`, () => assert.throws(() => normalizeDomain(input), DomainNameError));
});

describe('expectedTxtValue', () => {
  it('is stable, and depends on identity and domain', () => {
    const value = expectedTxtValue('identity-a', 'example.com');
    assert.ok(value.startsWith(TXT_VALUE_PREFIX));
    assert.match(value, /^portway-verify=[A-Za-z0-9_-]{43}$/);
    assert.equal(expectedTxtValue('identity-a', 'Example.com.'), value);
    assert.notEqual(expectedTxtValue('identity-b', 'example.com'), value);
    assert.notEqual(expectedTxtValue('identity-a', 'example.org'), value);
    // Identity and domain are kept apart: ("ab", "c.com") must differ from ("a", "bc.com").
    assert.notEqual(expectedTxtValue('ab', 'c.com'), expectedTxtValue('a', 'bc.com'));
    assert.throws(() => expectedTxtValue('', 'example.com'), TypeError);
    assert.throws(() => expectedTxtValue('id', 'not a domain'), DomainNameError);
  });
  it('is published under _portway.<domain>', () => assert.equal(txtRecordName('Example.com.'), '_portway.example.com'));
});

describe('verifyDomainTxt against a DNS server on loopback', () => {
  let dns: TestDnsServer;
  before(async () => {
    dns = await TestDnsServer.start();
  });
  after(() => dns.close());

  const expected = expectedTxtValue('identity-a', 'example.com');
  const rejectsWith = (code: string, pattern: RegExp) => (err: unknown) =>
    err instanceof DomainVerificationError && err.code === code && pattern.test(err.message);

  it('accepts the expected record, among others, at _portway.<domain>', async () => {
    dns.txt.set('_portway.example.com', [['v=spf1 -all'], [expected]]);
    await verifyDomainTxt('Example.com.', expected, { resolver: dns.address, timeoutMs: 2000 });
    assert.deepEqual(dns.queries.at(-1), { name: '_portway.example.com', type: 16 });
  });

  it('joins a record split into several strings', async () => {
    dns.txt.set('_portway.split.example', [[expected.slice(0, 10), expected.slice(10, 30), expected.slice(30)]]);
    await verifyDomainTxt('split.example', expected, { resolver: dns.address, timeoutMs: 2000 });
  });

  it('NXDOMAIN', async () => {
    await assert.rejects(
      verifyDomainTxt('missing.example', expected, { resolver: dns.address, timeoutMs: 2000 }),
      rejectsWith('nxdomain', /_portway\.missing\.example does not exist/),
    );
  });

  it('a name with no TXT record', async () => {
    dns.emptyNames.add('_portway.empty.example');
    await assert.rejects(
      verifyDomainTxt('empty.example', expected, { resolver: dns.address, timeoutMs: 2000 }),
      rejectsWith('no-record', /no TXT record/),
    );
  });

  it('a record for another identity or domain does not match', async () => {
    dns.txt.set('_portway.other.example', [[expectedTxtValue('identity-b', 'other.example')]]);
    const ours = expectedTxtValue('identity-a', 'other.example');
    await assert.rejects(
      verifyDomainTxt('other.example', ours, { resolver: dns.address, timeoutMs: 2000 }),
      rejectsWith('mismatch', /does not match: expected "portway-verify=.*", found "portway-verify=/),
    );
  });

  it('unrelated TXT records only', async () => {
    dns.txt.set('_portway.unrelated.example', [['hello'], ['world']]);
    await assert.rejects(
      verifyDomainTxt('unrelated.example', expected, { resolver: dns.address, timeoutMs: 2000 }),
      rejectsWith('mismatch', /no portway-verify= value among 2 TXT record/),
    );
  });

  it('a prefix of the expected value is not enough', async () => {
    dns.txt.set('_portway.prefix.example', [[expected.slice(0, -1)], [expected + 'x']]);
    await assert.rejects(verifyDomainTxt('prefix.example', expected, { resolver: dns.address, timeoutMs: 2000 }), rejectsWith('mismatch', /./));
  });

  it('the record on the apex does not count', async () => {
    dns.txt.set('apex.example', [[expected]]);
    await assert.rejects(verifyDomainTxt('apex.example', expected, { resolver: dns.address, timeoutMs: 2000 }), rejectsWith('nxdomain', /./));
  });

  it('a server that never answers times out', { timeout: 10_000 }, async () => {
    dns.silent.add('_portway.slow.example');
    const started = performance.now();
    await assert.rejects(
      verifyDomainTxt('slow.example', expected, { resolver: dns.address, timeoutMs: 300 }),
      rejectsWith('timeout', /timed out after 300 ms/),
    );
    assert.ok(performance.now() - started < 5000, 'the timeout bounds the lookup');
    assert.ok(dns.queries.some((q) => q.name === '_portway.slow.example'), 'the query did reach the server');
  });

  it('an invalid resolver address is a dns-error', async () => {
    await assert.rejects(
      verifyDomainTxt('example.com', expected, { resolver: 'not an address', timeoutMs: 500 }),
      rejectsWith('dns-error', /invalid DNS resolver/),
    );
  });

  it('an invalid domain is refused before any lookup', async () => {
    const count = dns.queries.length;
    await assert.rejects(verifyDomainTxt('exa mple.com', expected, { resolver: dns.address }), DomainNameError);
    assert.equal(dns.queries.length, count);
  });
});
