import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  PROXY_V1_MAX_LENGTH,
  PROXY_V2_MAX_LENGTH,
  ProxyHeaderReader,
  ProxyHeaderResult,
} from '../../relay/src/security/proxy-protocol';

const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** A v2 header: version/command byte, family/transport byte, then the body (addresses, TLVs). */
function v2(versionCommand: number, familyTransport: number, body: Buffer, claimedLength = body.length): Buffer {
  const fixed = Buffer.alloc(4);
  fixed[0] = versionCommand;
  fixed[1] = familyTransport;
  fixed.writeUInt16BE(claimedLength, 2);
  return Buffer.concat([SIGNATURE, fixed, body]);
}

function inet4Body(src: number[], dst: number[], sport: number, dport: number, extra = Buffer.alloc(0)): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sport, 0);
  ports.writeUInt16BE(dport, 2);
  return Buffer.concat([Buffer.from(src), Buffer.from(dst), ports, extra]);
}

function inet6Body(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sport, 0);
  ports.writeUInt16BE(dport, 2);
  return Buffer.concat([Buffer.from(src), Buffer.from(dst), ports]);
}

function readAll(data: Buffer): ProxyHeaderResult {
  return new ProxyHeaderReader().push(data);
}

/** Feeds one byte at a time; every push before the end must ask for more. */
function readByteByByte(data: Buffer): ProxyHeaderResult {
  const reader = new ProxyHeaderReader();
  let result: ProxyHeaderResult = { status: 'need-more' };
  for (let i = 0; i < data.length; i++) {
    result = reader.push(data.subarray(i, i + 1));
    if (result.status !== 'need-more') {
      assert.equal(i, data.length - 1, `finished early at byte ${i}: ${JSON.stringify(result)}`);
    }
  }
  return result;
}

function assertDone(result: ProxyHeaderResult): Extract<ProxyHeaderResult, { status: 'done' }> {
  assert.equal(result.status, 'done', JSON.stringify(result));
  return result as Extract<ProxyHeaderResult, { status: 'done' }>;
}

function assertError(result: ProxyHeaderResult, pattern: RegExp): void {
  assert.equal(result.status, 'error', JSON.stringify(result));
  assert.match((result as { message: string }).message, pattern);
}

const V6_SRC = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_DST = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const MAPPED_SRC = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7];

describe('PROXY v1', () => {
  const valid: { name: string; header: string; source?: { address: string; port: number }; destination?: { address: string; port: number } }[] = [
    {
      name: 'TCP4',
      header: 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n',
      source: { address: '192.168.0.1', port: 56324 },
      destination: { address: '192.168.0.11', port: 443 },
    },
    {
      name: 'TCP6',
      header: 'PROXY TCP6 2001:DB8::1 2001:db8::2 65535 0\r\n',
      source: { address: '2001:db8::1', port: 65535 },
      destination: { address: '2001:db8::2', port: 0 },
    },
    {
      name: 'TCP6 with a mapped source is folded to IPv4',
      header: 'PROXY TCP6 ::ffff:198.51.100.7 ::1 1234 80\r\n',
      source: { address: '198.51.100.7', port: 1234 },
      destination: { address: '::1', port: 80 },
    },
    { name: 'UNKNOWN', header: 'PROXY UNKNOWN\r\n' },
    { name: 'UNKNOWN with trailing fields', header: 'PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n' },
  ];
  for (const c of valid) {
    it(`${c.name}: whole, and split byte by byte, with the rest kept`, () => {
      const body = Buffer.from('GET / HTTP/1.1\r\n\r\n');
      const whole = assertDone(readAll(Buffer.concat([Buffer.from(c.header, 'latin1'), body])));
      assert.equal(whole.version, 1);
      assert.deepEqual(whole.source, c.source);
      assert.deepEqual(whole.destination, c.destination);
      assert.deepEqual(whole.rest, body);
      const split = assertDone(readByteByByte(Buffer.from(c.header, 'latin1')));
      assert.deepEqual(split.source, c.source);
      assert.equal(split.rest.length, 0);
    });
  }

  it('accepts a header of exactly the maximum length', () => {
    const head = 'PROXY UNKNOWN ';
    const header = head + 'x'.repeat(PROXY_V1_MAX_LENGTH - head.length - 2) + '\r\n';
    assert.equal(header.length, PROXY_V1_MAX_LENGTH);
    assertDone(readByteByByte(Buffer.from(header)));
  });

  const invalid: [string, string, RegExp][] = [
    ['an HTTP request', 'GET / HTTP/1.1\r\n', /not a PROXY protocol header/],
    ['a near miss', 'PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n', /not a PROXY protocol header/],
    ['lower case', 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n', /not a PROXY protocol header/],
    ['bare LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', /CRLF/],
    ['CR not followed by LF', 'PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n', /control/],
    ['NUL byte', 'PROXY TCP4 1.2.3.4\u00005.6.7.8 1 2\r\n', /control/],
    ['non-ASCII byte', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\u00e9\r\n', /non-ASCII/],
    ['unknown protocol', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', /TCP4, TCP6 or UNKNOWN/],
    ['empty protocol', 'PROXY \r\n', /TCP4, TCP6 or UNKNOWN/],
    ['missing port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', /two ports/],
    ['extra field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', /two ports/],
    ['double space', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n', /two ports/],
    ['port too large', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', /invalid/],
    ['negative port', 'PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n', /invalid/],
    ['hex port', 'PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n', /invalid/],
    ['IPv6 under TCP4', 'PROXY TCP4 ::1 ::1 1 2\r\n', /invalid/],
    ['IPv4 under TCP6', 'PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n', /invalid/],
    ['lax IPv4', 'PROXY TCP4 0x7f.0.0.1 5.6.7.8 1 2\r\n', /invalid/],
    ['short IPv4', 'PROXY TCP4 127.1 5.6.7.8 1 2\r\n', /invalid/],
    ['zone id', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', /invalid/],
    ['hostname', 'PROXY TCP4 example.com 5.6.7.8 1 2\r\n', /invalid/],
  ];
  for (const [name, header, pattern] of invalid) {
    it(`refuses ${name}`, () => {
      assertError(readAll(Buffer.from(header, 'latin1')), pattern);
      // Split, the same verdict arrives no later than the whole header would have.
      const reader = new ProxyHeaderReader();
      let result: ProxyHeaderResult = { status: 'need-more' };
      for (const byte of Buffer.from(header, 'latin1')) {
        result = reader.push(Buffer.from([byte]));
        if (result.status !== 'need-more') break;
      }
      assertError(result, pattern);
    });
  }

  it('refuses as soon as the first byte cannot start a header', () => {
    assertError(new ProxyHeaderReader().push(Buffer.from('G')), /not a PROXY/);
    assertError(new ProxyHeaderReader().push(Buffer.from([0x16, 0x03, 0x01])), /not a PROXY/);
  });

  it('gives up after 107 bytes without a line end', () => {
    const reader = new ProxyHeaderReader();
    assert.equal(reader.push(Buffer.from('PROXY UNKNOWN ' + 'x'.repeat(PROXY_V1_MAX_LENGTH - 15))).status, 'need-more');
    assertError(reader.push(Buffer.from('x')), /longer than 107 bytes/);
    // A CR at the last allowed byte cannot be completed either.
    assertError(readAll(Buffer.from('PROXY UNKNOWN ' + 'x'.repeat(PROXY_V1_MAX_LENGTH - 15) + '\r')), /longer than 107/);
  });

  it('a truncated header only ever asks for more', () => {
    const header = Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n');
    for (let cut = 0; cut < header.length; cut++) {
      assert.equal(readAll(header.subarray(0, cut)).status, 'need-more', `cut at ${cut}`);
    }
  });
});

describe('PROXY v2', () => {
  const cases: { name: string; header: Buffer; source?: { address: string; port: number }; destination?: { address: string; port: number } }[] = [
    {
      name: 'PROXY TCP over IPv4',
      header: v2(0x21, 0x11, inet4Body([10, 1, 2, 3], [10, 0, 0, 1], 40000, 443)),
      source: { address: '10.1.2.3', port: 40000 },
      destination: { address: '10.0.0.1', port: 443 },
    },
    {
      name: 'PROXY TCP over IPv6',
      header: v2(0x21, 0x21, inet6Body(V6_SRC, V6_DST, 1, 65535)),
      source: { address: '2001:db8::1', port: 1 },
      destination: { address: '2001:db8::2', port: 65535 },
    },
    {
      name: 'PROXY TCP over IPv6 with a mapped source',
      header: v2(0x21, 0x21, inet6Body(MAPPED_SRC, V6_DST, 5000, 80)),
      source: { address: '198.51.100.7', port: 5000 },
      destination: { address: '2001:db8::2', port: 80 },
    },
    {
      name: 'with TLVs after the addresses (skipped)',
      header: v2(0x21, 0x11, inet4Body([192, 0, 2, 1], [192, 0, 2, 2], 1000, 2000, Buffer.from([0x04, 0x00, 0x03, 0x61, 0x62, 0x63]))),
      source: { address: '192.0.2.1', port: 1000 },
      destination: { address: '192.0.2.2', port: 2000 },
    },
    { name: 'LOCAL with no addresses', header: v2(0x20, 0x00, Buffer.alloc(0)) },
    { name: 'LOCAL ignores any addresses it carries', header: v2(0x20, 0x11, inet4Body([6, 6, 6, 6], [10, 0, 0, 1], 1, 2)) },
    { name: 'PROXY with AF_UNSPEC', header: v2(0x21, 0x00, Buffer.alloc(0)) },
    { name: 'PROXY with AF_UNIX', header: v2(0x21, 0x31, Buffer.alloc(216)) },
    { name: 'PROXY over IPv4 with an unspecified transport', header: v2(0x21, 0x10, inet4Body([6, 6, 6, 6], [10, 0, 0, 1], 1, 2)) },
  ];
  for (const c of cases) {
    it(`${c.name}: whole, and split byte by byte, with the rest kept`, () => {
      const rest = Buffer.from([0x16, 0x03, 0x01, 0x00]);
      const whole = assertDone(readAll(Buffer.concat([c.header, rest])));
      assert.equal(whole.version, 2);
      assert.deepEqual(whole.source, c.source);
      assert.deepEqual(whole.destination, c.destination);
      assert.deepEqual(whole.rest, rest);
      const split = assertDone(readByteByByte(c.header));
      assert.deepEqual(split.source, c.source);
      assert.equal(split.rest.length, 0);
    });
  }

  it('accepts a header of exactly the cap, refuses one byte more before it arrives', () => {
    const body = (n: number) => inet4Body([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, Buffer.alloc(n - 12));
    assertDone(readAll(v2(0x21, 0x11, body(PROXY_V2_MAX_LENGTH - 16))));
    // Only the 16 fixed bytes are sent: the claim alone is enough to refuse.
    const fixedOnly = v2(0x21, 0x11, Buffer.alloc(0), PROXY_V2_MAX_LENGTH - 15);
    assertError(readAll(fixedOnly), /claims 1025 bytes; at most 1024/);
  });

  it('refuses a 64 KiB claim from the fixed part alone', () => {
    const reader = new ProxyHeaderReader();
    const header = v2(0x21, 0x11, Buffer.alloc(0), 0xffff);
    for (let i = 0; i < 15; i++) assert.equal(reader.push(header.subarray(i, i + 1)).status, 'need-more');
    assertError(reader.push(header.subarray(15, 16)), /claims 65551 bytes/);
  });

  const invalid: [string, Buffer, RegExp][] = [
    ['a broken signature', Buffer.concat([SIGNATURE.subarray(0, 11), Buffer.from([0x0b, 0x21, 0x11, 0, 0])]), /not a PROXY/],
    ['version 1 in the binary form', v2(0x11, 0x11, inet4Body([1, 1, 1, 1], [2, 2, 2, 2], 1, 2)), /version must be 2/],
    ['version 3', v2(0x31, 0x11, inet4Body([1, 1, 1, 1], [2, 2, 2, 2], 1, 2)), /version must be 2/],
    ['an unknown command', v2(0x22, 0x11, inet4Body([1, 1, 1, 1], [2, 2, 2, 2], 1, 2)), /command 2 is unknown/],
    ['an unknown family', v2(0x21, 0x41, Buffer.alloc(12)), /family byte 0x41/],
    ['an unknown transport', v2(0x21, 0x13, Buffer.alloc(12)), /family byte 0x13/],
    ['DGRAM', v2(0x21, 0x12, inet4Body([1, 1, 1, 1], [2, 2, 2, 2], 1, 2)), /DGRAM/],
    ['an IPv4 body too short for its addresses', v2(0x21, 0x11, Buffer.alloc(11)), /too short/],
    ['an IPv6 body too short for its addresses', v2(0x21, 0x21, Buffer.alloc(35)), /too short/],
    ['a UNIX body too short for its addresses', v2(0x21, 0x31, Buffer.alloc(100)), /too short/],
  ];
  for (const [name, header, pattern] of invalid) {
    it(`refuses ${name}`, () => assertError(readAll(header), pattern));
  }

  it('a truncated header only ever asks for more', () => {
    const header = v2(0x21, 0x21, inet6Body(V6_SRC, V6_DST, 1, 2));
    for (let cut = 0; cut < header.length; cut++) {
      assert.equal(readAll(header.subarray(0, cut)).status, 'need-more', `cut at ${cut}`);
    }
  });
});

describe('ProxyHeaderReader', () => {
  it('rest survives a header split across two chunks', () => {
    const reader = new ProxyHeaderReader();
    assert.equal(reader.push(Buffer.from('PROXY TCP4 1.2.3.4 ')).status, 'need-more');
    const done = assertDone(reader.push(Buffer.from('5.6.7.8 10 20\r\nhello')));
    assert.deepEqual(done.source, { address: '1.2.3.4', port: 10 });
    assert.equal(done.rest.toString(), 'hello');
  });

  it('answers pushes after the end without throwing', () => {
    const reader = new ProxyHeaderReader();
    assertDone(reader.push(Buffer.from('PROXY UNKNOWN\r\n')));
    assertError(reader.push(Buffer.from('more')), /already read/);
    const failed = new ProxyHeaderReader();
    assertError(failed.push(Buffer.from('GET')), /not a PROXY/);
    assertError(failed.push(Buffer.from('PROXY UNKNOWN\r\n')), /not a PROXY/);
    assertError(new ProxyHeaderReader().push('PROXY UNKNOWN\r\n' as unknown as Buffer), /needs bytes/);
  });

  it('an empty chunk asks for more', () => {
    assert.equal(new ProxyHeaderReader().push(Buffer.alloc(0)).status, 'need-more');
  });

  it('never throws on random bytes, and random bytes after a valid signature', () => {
    // A fixed-seed generator, so a failure reproduces.
    let seed = 0x2545f491;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let round = 0; round < 3000; round++) {
      const length = 1 + (random() % 64);
      const noise = Buffer.from(Array.from({ length }, random));
      const prefix = round % 3 === 0 ? SIGNATURE : round % 3 === 1 ? Buffer.from('PROXY ') : Buffer.alloc(0);
      const data = Buffer.concat([prefix, noise]);
      const reader = new ProxyHeaderReader();
      let result: ProxyHeaderResult = { status: 'need-more' };
      for (let i = 0; i < data.length && result.status === 'need-more'; ) {
        const step = 1 + (random() % 7);
        result = reader.push(data.subarray(i, i + step));
        i += step;
      }
      assert.ok(['need-more', 'done', 'error'].includes(result.status));
    }
  });
});
