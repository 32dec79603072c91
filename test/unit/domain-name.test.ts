import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeAcmeDomain } from '../../common/acme/domain-name';
import { canonicalDomain, canonicalServerName, domainLookupKey, DomainNameError } from '../../common/domain-name';
import { normalizeHost } from '../../common/http-headers';
import { normalizeDomain as normalizeAgentDomain } from '../../agent/src/config/domain-rules';
import { UsageError } from '../../agent/src/config/usage-error';
import { normalizeDomain as normalizeCustomDomain } from '../../relay/src/domains/domain-name';

describe('one canonical domain form (common/domain-name.ts)', () => {
  const canonical: [string, string][] = [
    ['example.com', 'example.com'],
    ['Example.COM.', 'example.com'],
    ['  app.Example.com ', 'app.example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['localhost', 'localhost'],
    ['a-b.c1', 'a-b.c1'],
  ];
  for (const [input, expected] of canonical) it(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(canonicalDomain(input), expected));

  const refused = ['', '.', 'example..com', '-a.com', 'a-.com', 'exa_mple.com', 'a b.com', '*.example.com', 'example.com/x', `${'a'.repeat(64)}.com`, `${'a'.repeat(60)}.`.repeat(5) + 'com'];
  for (const input of refused) it(`refuses ${JSON.stringify(input.slice(0, 30))}`, () => assert.throws(() => canonicalDomain(input), DomainNameError));

  it('every caller agrees on the canonical form of a name all of them accept', () => {
    for (const input of ['Shop.Example.COM.', 'bücher.example']) {
      const forms = [canonicalDomain(input), normalizeCustomDomain(input), normalizeAcmeDomain(input), normalizeAgentDomain(input), canonicalServerName(canonicalDomain(input))];
      assert.equal(new Set(forms).size, 1, forms.join(' '));
      assert.equal(normalizeHost(`${input.toLowerCase()}:8080`), domainLookupKey(input.toLowerCase()));
    }
  });

  it('layers each caller\'s own rules, and keeps its own error', () => {
    assert.throws(() => normalizeCustomDomain('localhost'), (err: Error) => err instanceof DomainNameError && /two labels/.test(err.message));
    assert.throws(() => normalizeCustomDomain('1.2.3.4'), (err: Error) => err instanceof DomainNameError && /IP address/.test(err.message));
    assert.equal(normalizeAgentDomain('localhost'), 'localhost', 'the agent takes a single label (its subdomain shorthand)');
    assert.throws(() => normalizeAgentDomain('a b'), (err: Error) => err instanceof UsageError && err.message === '"a b" is not a valid domain name');
    assert.throws(() => normalizeAcmeDomain('*.example.com'), /wildcard names need a DNS-01 challenge/);
    assert.throws(() => normalizeAcmeDomain('localhost'), /not a fully qualified domain name/);
    assert.throws(() => normalizeAcmeDomain('10.0.0.1'), /not a fully qualified domain name/);
  });

  it('server names (SNI) may carry underscores but must be ASCII', () => {
    assert.equal(canonicalServerName('_acme.Host-1.test.'), '_acme.host-1.test');
    assert.throws(() => canonicalServerName('bücher.example'), DomainNameError);
  });

  it('a lookup key only folds case, space and the trailing dot (SAN wildcards pass)', () => {
    assert.equal(domainLookupKey(' *.Example.COM. '), '*.example.com');
  });
});
