import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseTcpAllocateParams, parseTcpAnswer, parseTcpPortParams } from '../../protocol/control-tcp';
import { PortAllocationError, PortAllocator, TCP_PORTS_FILE } from '../../relay/src/tcp/port-allocator';
import { PortRange, PortRangeError } from '../../relay/src/tcp/port-range';
import { parseTcpPorts } from '../../relay/src/tcp/tcp-options';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portway-ports-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const fixedNow = () => new Date('2026-01-02T03:04:05.000Z');
const range = (text: string) => PortRange.parse(text) as PortRange;
const isCode = (code: string) => (err: unknown) => err instanceof PortAllocationError && err.code === code;

describe('PortRange', () => {
  it('parses ranges, single ports and off', () => {
    const table: [string, string | undefined][] = [
      ['22000-22999', '22000-22999'],
      [' 22000-22999 ', '22000-22999'],
      ['22000', '22000'],
      ['1-65535', '1-65535'],
      ['off', undefined],
      ['NONE', undefined],
    ];
    for (const [text, expected] of table) assert.equal(PortRange.parse(text)?.toString(), expected, text);
    assert.equal(range('22000-22999').size, 1000);
  });

  it('refuses anything else with a message naming the input', () => {
    for (const text of ['', '0-10', '10-5', '22000-70000', '22000-', '-5', 'a-b', '22000..22999', '1e3-2e3', '123456']) {
      assert.throws(() => PortRange.parse(text), (err: unknown) => err instanceof PortRangeError && err.message.includes(`"${text}"`), text);
    }
  });

  it('--tcp-ports: flag over env over default; the relay port may not be inside', () => {
    const make = (m: string) => new Error(m);
    assert.equal(parseTcpPorts(new Map(), {}, [8080], make)?.toString(), '22000-22999');
    assert.equal(parseTcpPorts(new Map(), { TCP_PORTS: '30000-30009' }, [8080], make)?.toString(), '30000-30009');
    assert.equal(parseTcpPorts(new Map([['tcp-ports', '40000-40001']]), { TCP_PORTS: '30000-30009' }, [8080], make)?.toString(), '40000-40001');
    assert.equal(parseTcpPorts(new Map([['tcp-ports', 'off']]), {}, [8080], make), undefined);
    assert.throws(() => parseTcpPorts(new Map([['tcp-ports', '8000-8100']]), {}, [8080], make), /own port 8080/);
    assert.throws(() => parseTcpPorts(new Map([['tcp-ports', 'nonsense']]), {}, [8080], make), /--tcp-ports/);
  });
});

describe('PortAllocator', () => {
  it('hands out the lowest free port, each to one identity', () => {
    const ports = PortAllocator.open(tempDir(), range('22000-22002'), { clock: fixedNow });
    assert.deepEqual(ports.allocate('alice'), { port: 22000, allocatedAt: '2026-01-02T03:04:05.000Z' });
    assert.equal(ports.allocate('bob').port, 22001);
    assert.equal(ports.allocate('alice').port, 22002);
    assert.equal(ports.ownerOf(22000), 'alice');
    assert.equal(ports.ownerOf(22001), 'bob');
    assert.equal(ports.ownerOf(22003), undefined);
    assert.deepEqual(ports.portsOf('alice').map((a) => a.port), [22000, 22002]);
    assert.throws(() => ports.allocate('carol'), isCode('none-free'));
  });

  it('a requested port: granted when free, idempotent for its holder, refused for others and outside the range', () => {
    const ports = PortAllocator.open(tempDir(), range('22000-22009'));
    assert.equal(ports.allocate('alice', 22005).port, 22005);
    assert.equal(ports.allocate('alice', 22005).port, 22005);
    assert.equal(ports.portsOf('alice').length, 1);
    assert.throws(() => ports.allocate('bob', 22005), isCode('taken'));
    assert.throws(() => ports.allocate('bob', 21999), isCode('invalid-port'));
    assert.throws(() => ports.allocate('bob', 22010), isCode('invalid-port'));
  });

  it('skips ports the caller found busy', () => {
    const ports = PortAllocator.open(tempDir(), range('22000-22003'));
    assert.equal(ports.allocate('alice', undefined, new Set([22000, 22001])).port, 22002);
    assert.throws(() => ports.allocate('alice', undefined, new Set([22000, 22001, 22003])), isCode('none-free'));
  });

  it('release: only by the holder; the port is free again', () => {
    const ports = PortAllocator.open(tempDir(), range('22000-22000'));
    ports.allocate('alice');
    assert.throws(() => ports.release('bob', 22000), isCode('not-yours'));
    assert.throws(() => ports.release('alice', 22001), isCode('not-yours'));
    assert.equal(ports.release('alice', 22000).port, 22000);
    assert.equal(ports.ownerOf(22000), undefined);
    assert.equal(ports.allocate('bob').port, 22000);
  });

  it('limits the ports one identity holds', () => {
    const ports = PortAllocator.open(tempDir(), range('22000-22009'), { maxPerIdentity: 2 });
    ports.allocate('alice');
    ports.allocate('alice');
    assert.throws(() => ports.allocate('alice'), isCode('limit-reached'));
    assert.equal(ports.allocate('bob').port, 22002);
  });

  it('persists allocations atomically and reloads them (relay restart)', () => {
    const dir = tempDir();
    const first = PortAllocator.open(dir, range('22000-22009'), { clock: fixedNow });
    first.allocate('alice', 22003);
    first.allocate('bob');
    const stored = JSON.parse(fs.readFileSync(path.join(dir, TCP_PORTS_FILE), 'utf8'));
    assert.deepEqual(stored, {
      version: 1,
      ports: { '22000': { identity: 'bob', allocatedAt: '2026-01-02T03:04:05.000Z' }, '22003': { identity: 'alice', allocatedAt: '2026-01-02T03:04:05.000Z' } },
    });
    assert.deepEqual(fs.readdirSync(dir), [TCP_PORTS_FILE], 'no temporary files left behind');
    const second = PortAllocator.open(dir, range('22000-22009'));
    assert.equal(second.ownerOf(22003), 'alice');
    assert.equal(second.ownerOf(22000), 'bob');
    assert.equal(second.allocate('carol').port, 22001);
  });

  it('keeps allocations outside a narrowed range but never hands such ports out', () => {
    const dir = tempDir();
    PortAllocator.open(dir, range('22000-22009')).allocate('alice', 22009);
    const narrowed = PortAllocator.open(dir, range('22000-22001'));
    assert.equal(narrowed.ownerOf(22009), 'alice');
    assert.throws(() => narrowed.allocate('bob', 22009), isCode('invalid-port'));
    assert.equal(narrowed.release('alice', 22009).port, 22009);
  });

  it('a corrupt file is an error naming it, not an empty table', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, TCP_PORTS_FILE), '{"version":1,"ports":');
    assert.throws(() => PortAllocator.open(dir, range('22000-22009')), new RegExp(TCP_PORTS_FILE));
    fs.writeFileSync(path.join(dir, TCP_PORTS_FILE), '[1,2]');
    assert.throws(() => PortAllocator.open(dir, range('22000-22009')), /unexpected shape/);
  });
});

describe('tcp/* wire parsers', () => {
  it('validate what came from the network', () => {
    assert.deepEqual(parseTcpAllocateParams(undefined), {});
    assert.deepEqual(parseTcpAllocateParams({}), {});
    assert.deepEqual(parseTcpAllocateParams({ port: 22000 }), { port: 22000 });
    for (const bad of [{ port: 0 }, { port: 70000 }, { port: '22000' }, { port: 1.5 }, 'x']) assert.throws(() => parseTcpAllocateParams(bad), TypeError);
    assert.deepEqual(parseTcpPortParams({ port: 22000, extra: 1 }), { port: 22000 });
    for (const bad of [undefined, null, {}, { port: -1 }]) assert.throws(() => parseTcpPortParams(bad), TypeError);
    assert.deepEqual(parseTcpAnswer.list({ ports: [{ port: 22000, allocatedAt: 't' }], range: { first: 22000, last: 22999 } }), {
      ports: [{ port: 22000, allocatedAt: 't' }],
      range: { first: 22000, last: 22999 },
    });
    assert.throws(() => parseTcpAnswer.list({ ports: [{ port: 'x' }], range: null }), TypeError);
    assert.throws(() => parseTcpAnswer.allocation({ port: 22000 }), TypeError);
  });
});
