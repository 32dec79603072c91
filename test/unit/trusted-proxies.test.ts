import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  clientAddressFor,
  forwardedForHeader,
  forwardedForValues,
  MAX_FORWARDED_HOPS,
  TrustedProxies,
  TrustedProxiesError,
} from '../../relay/src/security/trusted-proxies';

describe('TrustedProxies', () => {
  it('matches addresses in any form against the configured networks', () => {
    const trusted = new TrustedProxies(['10.0.0.0/8', '2001:db8::1']);
    assert.equal(trusted.isTrusted('10.1.2.3'), true);
    assert.equal(trusted.isTrusted('::ffff:10.1.2.3'), true);
    assert.equal(trusted.isTrusted('2001:DB8::1'), true);
    assert.equal(trusted.isTrusted('2001:db8::2'), false);
    assert.equal(trusted.isTrusted('11.0.0.1'), false);
    assert.equal(trusted.isTrusted('garbage'), false);
    assert.deepEqual(trusted.cidrs, ['10.0.0.0/8', '2001:db8::1']);
  });

  it('parses the flag text and trusts nobody when it is empty', () => {
    assert.deepEqual(TrustedProxies.fromList(' 127.0.0.1, ::1 ,,').cidrs, ['127.0.0.1', '::1']);
    const nobody = TrustedProxies.fromList('');
    assert.equal(nobody.isEmpty, true);
    assert.equal(nobody.isTrusted('127.0.0.1'), false);
  });

  it('refuses a bad entry, naming it', () => {
    assert.throws(
      () => new TrustedProxies(['10.0.0.0/8', '10.0.0.0/99']),
      (err: unknown) => err instanceof TrustedProxiesError && err.input === '10.0.0.0/99' && /10\.0\.0\.0\/99/.test(err.message),
    );
    assert.throws(() => new TrustedProxies([], { header: 'x-real-ip' as never }), TrustedProxiesError);
  });
});

describe('clientAddressFor', () => {
  const proxies = new TrustedProxies(['10.0.0.0/8', '::1']);
  type Case = { name: string; socket: string; xff?: string | string[]; forwarded?: string; expected: string; trusted?: TrustedProxies };
  const cases: Case[] = [
    { name: 'untrusted peer: headers ignored', socket: '203.0.113.9', xff: '127.0.0.1', expected: '203.0.113.9' },
    { name: 'untrusted mapped peer is normalised', socket: '::ffff:203.0.113.9', xff: '10.0.0.1', expected: '203.0.113.9' },
    { name: 'trusted peer, no header: the peer', socket: '10.0.0.2', expected: '10.0.0.2' },
    { name: 'trusted peer, empty header: the peer', socket: '10.0.0.2', xff: '  ', expected: '10.0.0.2' },
    { name: 'trusted peer: right-most entry', socket: '10.0.0.2', xff: '198.51.100.7', expected: '198.51.100.7' },
    { name: 'trusted mapped peer', socket: '::ffff:10.0.0.2', xff: '198.51.100.7', expected: '198.51.100.7' },
    {
      name: 'spoofed left entries are skipped: right-most untrusted wins',
      socket: '10.0.0.2',
      xff: '1.1.1.1, 6.6.6.6, 198.51.100.7, 10.0.0.3',
      expected: '198.51.100.7',
    },
    { name: 'all hops trusted: the left-most', socket: '10.0.0.2', xff: '10.0.0.4, 10.0.0.3', expected: '10.0.0.4' },
    { name: 'repeated headers are one list', socket: '10.0.0.2', xff: ['6.6.6.6', '198.51.100.7'], expected: '198.51.100.7' },
    { name: 'entries with ports', socket: '10.0.0.2', xff: '198.51.100.7:5555', expected: '198.51.100.7' },
    { name: 'bracketed IPv6 with port', socket: '::1', xff: '[2001:DB8::7]:443', expected: '2001:db8::7' },
    { name: 'bare IPv6', socket: '::1', xff: '2001:db8::7', expected: '2001:db8::7' },
    { name: 'mapped entry is normalised', socket: '::1', xff: '::ffff:198.51.100.7', expected: '198.51.100.7' },
    // Garbage ends the walk at the last hop we vouch for, never at an address the client chose.
    { name: 'garbage right-most: the trusted peer', socket: '10.0.0.2', xff: '6.6.6.6, unknown', expected: '10.0.0.2' },
    { name: 'lax IPv4 form is garbage', socket: '10.0.0.2', xff: '6.6.6.6, 0x7f.0.0.1', expected: '10.0.0.2' },
    { name: 'garbage behind a trusted hop', socket: '10.0.0.2', xff: '6.6.6.6, bogus, 10.0.0.9', expected: '10.0.0.9' },
    { name: 'empty element', socket: '10.0.0.2', xff: '6.6.6.6,,', expected: '10.0.0.2' },
    { name: 'bad port', socket: '10.0.0.2', xff: '198.51.100.7:http', expected: '10.0.0.2' },
    { name: 'Forwarded is not read in X-Forwarded-For mode', socket: '10.0.0.2', forwarded: 'for=6.6.6.6', expected: '10.0.0.2' },
    {
      name: 'Forwarded mode: right-most untrusted for=',
      socket: '10.0.0.2',
      trusted: new TrustedProxies(['10.0.0.0/8'], { header: 'forwarded' }),
      xff: '6.6.6.6',
      forwarded: 'for=1.1.1.1;proto=http, For="[2001:db8:cafe::17]:4711";by=10.0.0.1, for=10.0.0.5',
      expected: '2001:db8:cafe::17',
    },
    {
      name: 'Forwarded mode: quoted commas and semicolons do not split',
      socket: '10.0.0.2',
      trusted: new TrustedProxies(['10.0.0.0/8'], { header: 'forwarded' }),
      forwarded: 'for=198.51.100.1;host="a,b;c", for=198.51.100.2;by="x;y"',
      expected: '198.51.100.2',
    },
    {
      name: 'Forwarded mode: obfuscated identifier stops at the trusted peer',
      socket: '10.0.0.2',
      trusted: new TrustedProxies(['10.0.0.0/8'], { header: 'forwarded' }),
      forwarded: 'for=6.6.6.6, for=_hidden',
      expected: '10.0.0.2',
    },
    {
      name: 'Forwarded mode: element without for= stops the walk',
      socket: '10.0.0.2',
      trusted: new TrustedProxies(['10.0.0.0/8'], { header: 'forwarded' }),
      forwarded: 'for=6.6.6.6, proto=https',
      expected: '10.0.0.2',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const actual = clientAddressFor({ socketAddress: c.socket, xForwardedFor: c.xff, forwarded: c.forwarded, trusted: c.trusted ?? proxies });
      assert.equal(actual, c.expected);
    });
  }

  it('nobody trusted: always the socket peer', () => {
    const none = new TrustedProxies([]);
    assert.equal(clientAddressFor({ socketAddress: '127.0.0.1', xForwardedFor: '6.6.6.6', trusted: none }), '127.0.0.1');
  });

  it('examines a bounded number of hops', () => {
    const chain = ['6.6.6.6', ...Array.from({ length: MAX_FORWARDED_HOPS + 5 }, (_, i) => `10.0.${i}.1`)].join(', ');
    const address = clientAddressFor({ socketAddress: '10.0.0.2', xForwardedFor: chain, trusted: proxies });
    // The walk stops inside the trusted chain; it never reaches the forged left-most entry.
    assert.notEqual(address, '6.6.6.6');
    assert.equal(proxies.isTrusted(address), true);
  });
});

describe('forwardedForHeader', () => {
  it('replaces the header of an untrusted sender', () => {
    assert.equal(forwardedForHeader('127.0.0.1, 10.0.0.1', '::ffff:203.0.113.9', false), '203.0.113.9');
    assert.equal(forwardedForHeader(undefined, '203.0.113.9', false), '203.0.113.9');
  });
  it('appends the sender to a trusted chain', () => {
    assert.equal(forwardedForHeader('198.51.100.7', '10.0.0.2', true), '198.51.100.7, 10.0.0.2');
    assert.equal(forwardedForHeader(['1.1.1.1', '198.51.100.7'], '10.0.0.2', true), '1.1.1.1,198.51.100.7, 10.0.0.2');
    assert.equal(forwardedForHeader(' ', '::1', true), '::1');
    assert.equal(forwardedForHeader(undefined, '::1', true), '::1');
  });
});

describe('forwardedForValues', () => {
  it('unquotes and unescapes', () => {
    assert.deepEqual(forwardedForValues('for="[::1]:80", FOR=1.2.3.4;proto=http, by=x, for="a\\"b"'), ['[::1]:80', '1.2.3.4', '', 'a"b']);
  });
});
