import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import {
  ClientHelloError,
  ClientHelloReader,
  type ClientHelloResult,
  MAX_BUFFERED_BYTES,
  readServerNameFromSocket,
} from '../../relay/src/tls/client-hello';

/** Deterministic PRNG (mulberry32), so a failing split can be reproduced. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** The first TLS record a real Node/OpenSSL client sends, captured by a plain TCP server. */
async function captureClientHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  const port = await listen(server);
  try {
    const captured = new Promise<Buffer>((resolve) => {
      server.once('connection', (socket) => {
        let bytes = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          bytes = Buffer.concat([bytes, chunk]);
          if (bytes.length >= 5 && bytes.length >= 5 + bytes.readUInt16BE(3)) {
            socket.destroy();
            resolve(bytes.subarray(0, 5 + bytes.readUInt16BE(3)));
          }
        });
      });
    });
    const client = tls.connect({ host: '127.0.0.1', port, ...options });
    client.on('error', () => {}); // the capture hangs up mid-handshake on purpose
    const hello = await captured;
    client.destroy();
    return hello;
  } finally {
    server.close();
  }
}

function feed(chunks: Buffer[]): { results: ClientHelloResult[]; last: ClientHelloResult } {
  const reader = new ClientHelloReader();
  const results = chunks.map((c) => reader.push(c));
  return { results, last: results[results.length - 1] };
}

function bytewise(buf: Buffer): Buffer[] {
  return [...buf].map((b) => Buffer.from([b]));
}

function randomSplit(buf: Buffer, rand: () => number, maxPiece = 40): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = 1 + Math.floor(rand() * maxPiece);
    pieces.push(buf.subarray(i, i + n));
    i += n;
  }
  return pieces;
}

/** Re-wraps the handshake bytes of a single-record hello into records of the given sizes. */
function refragment(record: Buffer, nextSize: () => number): Buffer {
  const payload = record.subarray(5);
  const out: Buffer[] = [];
  for (let i = 0; i < payload.length; ) {
    const n = Math.min(nextSize(), payload.length - i);
    const header = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    header.writeUInt16BE(n, 3);
    out.push(header, payload.subarray(i, i + n));
    i += n;
  }
  return Buffer.concat(out);
}

// ---- a minimal ClientHello builder for cases no real client sends ----

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function vec16(...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([u16(body.length), body]);
}
function extension(type: number, data: Buffer): Buffer {
  return Buffer.concat([u16(type), vec16(data)]);
}
function sniExtension(...names: Array<[number, Buffer]>): Buffer {
  return extension(0, vec16(...names.map(([type, name]) => Buffer.concat([Buffer.from([type]), vec16(name)]))));
}
function helloBody(opts: { sessionIdLength?: number; extensions?: Buffer[]; extensionsLengthDelta?: number } = {}): Buffer {
  const sid = opts.sessionIdLength ?? 0;
  const fixed = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 7),
    Buffer.from([sid]),
    Buffer.alloc(Math.min(sid, 40)),
    vec16(Buffer.from([0x13, 0x01])),
    Buffer.from([1, 0]),
  ]);
  if (!opts.extensions) return fixed;
  const exts = Buffer.concat(opts.extensions);
  return Buffer.concat([fixed, u16(exts.length + (opts.extensionsLengthDelta ?? 0)), exts]);
}
function handshakeRecord(body: Buffer, type = 1): Buffer {
  const hs = Buffer.concat([Buffer.from([type, 0, 0, 0]), body]);
  hs.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(hs.length), hs]);
}
function withName(name: string): Buffer {
  return handshakeRecord(helloBody({ extensions: [sniExtension([0, Buffer.from(name, 'latin1')])] }));
}

let sniHello: Buffer;
let tls12Hello: Buffer;
let noSniHello: Buffer;
let messyHello: Buffer;

before(async () => {
  sniHello = await captureClientHello({ servername: 'app.example.test', ALPNProtocols: ['h2', 'http/1.1'] });
  tls12Hello = await captureClientHello({ servername: 'old.example.test', maxVersion: 'TLSv1.2' });
  noSniHello = await captureClientHello({}); // an IP host: Node sends no SNI
  messyHello = await captureClientHello({ servername: 'App.Example.TEST.' });
});

describe('ClientHelloReader: real ClientHellos', () => {
  it('reads the server name from a whole ClientHello', () => {
    assert.deepEqual(feed([sniHello]).last, { status: 'done', serverName: 'app.example.test' });
    assert.deepEqual(feed([tls12Hello]).last, { status: 'done', serverName: 'old.example.test' });
  });

  it('reports no server name when the client sent no SNI', () => {
    assert.deepEqual(feed([noSniHello]).last, { status: 'done', serverName: undefined });
  });

  it('lower-cases and strips the trailing dot', () => {
    assert.deepEqual(feed([messyHello]).last, { status: 'done', serverName: 'app.example.test' });
  });

  it('byte by byte: need-more until the very last byte', () => {
    const { results, last } = feed(bytewise(sniHello));
    assert.ok(results.slice(0, -1).every((r) => r.status === 'need-more'));
    assert.deepEqual(last, { status: 'done', serverName: 'app.example.test' });
  });

  it('random TCP splits give the same answer', () => {
    const rand = prng(1);
    for (let i = 0; i < 200; i++) {
      assert.deepEqual(feed(randomSplit(sniHello, rand)).last, { status: 'done', serverName: 'app.example.test' }, `split #${i}`);
    }
  });

  it('a ClientHello spread over many TLS records, pushed byte by byte', () => {
    const rand = prng(2);
    for (const size of [() => 1, () => 7, () => 1 + Math.floor(rand() * 60)]) {
      const records = refragment(sniHello, size);
      assert.ok(records.length > sniHello.length);
      assert.deepEqual(feed(bytewise(records)).last, { status: 'done', serverName: 'app.example.test' });
      assert.deepEqual(feed(randomSplit(records, rand)).last, { status: 'done', serverName: 'app.example.test' });
    }
  });

  it('a truncated ClientHello is need-more, never done', () => {
    for (let cut = 0; cut < sniHello.length; cut += 13) {
      assert.deepEqual(feed([sniHello.subarray(0, cut)]).last, { status: 'need-more' });
    }
    assert.deepEqual(feed([sniHello.subarray(0, sniHello.length - 1)]).last, { status: 'need-more' });
  });

  it('bytes after the ClientHello do not matter', () => {
    assert.deepEqual(feed([Buffer.concat([sniHello, Buffer.from('early data \x00\xff')])]).last, {
      status: 'done',
      serverName: 'app.example.test',
    });
  });

  it('the result is final once reached', () => {
    const reader = new ClientHelloReader();
    reader.push(sniHello);
    assert.deepEqual(reader.push(Buffer.from('GET / HTTP/1.1\r\n')), { status: 'done', serverName: 'app.example.test' });
    const bad = new ClientHelloReader();
    assert.equal(bad.push(Buffer.from('G')).status, 'error');
    assert.equal(bad.push(sniHello).status, 'error');
  });
});

describe('ClientHelloReader: refuses what is not a ClientHello', () => {
  it('rejects plain HTTP on the first byte', () => {
    const reader = new ClientHelloReader();
    const r = reader.push(Buffer.from('G'));
    assert.equal(r.status, 'error');
    assert.match((r as { message: string }).message, /not a TLS handshake/);
  });

  it('rejects an SSLv2-style hello and other record types', () => {
    assert.equal(feed([Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01])]).last.status, 'error');
    assert.equal(feed([Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])]).last.status, 'error'); // an alert
    assert.equal(feed([Buffer.from([0x16, 0x02, 0x00, 0x00, 0x10])]).last.status, 'error'); // SSL 2 record version
  });

  it('rejects a non-handshake record in the middle of a fragmented hello', () => {
    const records = refragment(sniHello, () => 20);
    const alert = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
    const r = feed([records.subarray(0, 50), alert, records.subarray(50)]).last;
    assert.equal(r.status, 'error');
  });

  it('rejects an oversized record length from the header alone', () => {
    const r = feed([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x01])]).last; // 16385
    assert.equal(r.status, 'error');
    assert.equal(feed([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])]).last.status, 'error'); // empty record
  });

  it('rejects a huge claimed ClientHello length without waiting for (or allocating) it', () => {
    const r = feed([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0xff, 0xff, 0xff])]).last;
    assert.equal(r.status, 'error');
    assert.match((r as { message: string }).message, /exceeds/);
  });

  it('rejects a handshake message that is not a ClientHello', () => {
    assert.equal(feed([handshakeRecord(helloBody(), 2)]).last.status, 'error');
  });

  it('gives up after MAX_BUFFERED_BYTES of tiny records', () => {
    const reader = new ClientHelloReader();
    // A plausible 15000-byte ClientHello, sent one byte per record (6 bytes per byte).
    let r = reader.push(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x3a, 0x98]));
    let sent = 9;
    while (r.status === 'need-more' && sent < 4 * MAX_BUFFERED_BYTES) {
      r = reader.push(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x01, 0x00]));
      sent += 6;
    }
    assert.equal(r.status, 'error');
    assert.ok(sent <= MAX_BUFFERED_BYTES + 6, `gave up after ${sent} bytes`);
  });
});

describe('ClientHelloReader: malformed insides', () => {
  const malformed: Array<[string, Buffer]> = [
    ['session_id longer than 32', handshakeRecord(helloBody({ sessionIdLength: 33, extensions: [] }))],
    ['extensions length too long', handshakeRecord(helloBody({ extensions: [sniExtension([0, Buffer.from('a.test')])], extensionsLengthDelta: 1 }))],
    ['extensions length too short', handshakeRecord(helloBody({ extensions: [sniExtension([0, Buffer.from('a.test')])], extensionsLengthDelta: -1 }))],
    ['duplicate server_name extension', handshakeRecord(helloBody({ extensions: [sniExtension([0, Buffer.from('a.test')]), sniExtension([0, Buffer.from('b.test')])] }))],
    ['two host_names', handshakeRecord(helloBody({ extensions: [sniExtension([0, Buffer.from('a.test')], [0, Buffer.from('b.test')])] }))],
    ['empty server_name extension', handshakeRecord(helloBody({ extensions: [extension(0, Buffer.alloc(0))] }))],
    ['empty name', withName('')],
    ['only a dot', withName('.')],
    ['space in name', withName('a b.test')],
    ['NUL in name', withName('a.test\0.evil')],
    ['non-ASCII name', withName('bücher.test')],
    ['empty label', withName('a..test')],
    ['slash in name', withName('a.test/x')],
    ['overlong name', withName('a'.repeat(300))],
  ];
  for (const [what, record] of malformed) {
    it(`rejects ${what}`, () => {
      assert.equal(feed([record]).last.status, 'error');
      assert.equal(feed(bytewise(record)).last.status, 'error');
    });
  }

  it('accepts a hello without extensions, and unknown name types, as no server name', () => {
    assert.deepEqual(feed([handshakeRecord(helloBody())]).last, { status: 'done', serverName: undefined });
    const otherType = handshakeRecord(helloBody({ extensions: [sniExtension([7, Buffer.from('x')])] }));
    assert.deepEqual(feed([otherType]).last, { status: 'done', serverName: undefined });
  });

  it('accepts a built name with an underscore and digits', () => {
    assert.deepEqual(feed([withName('_acme.Host-1.test')]).last, { status: 'done', serverName: '_acme.host-1.test' });
  });
});

describe('ClientHelloReader: garbage never throws', () => {
  it('random bytes after a handshake record header', () => {
    const rand = prng(3);
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({ length: Math.floor(rand() * 600) }, () => Math.floor(rand() * 256)));
      const input = rand() < 0.7 ? Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), junk]) : junk;
      const whole = feed([input]).last;
      assert.ok(['need-more', 'done', 'error'].includes(whole.status));
    }
  });

  it('mutated real hellos: same result whole and split, no throw', () => {
    const rand = prng(4);
    const outcomes = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const mutated = Buffer.from(sniHello);
      for (let m = 1 + Math.floor(rand() * 3); m > 0; m--) mutated[Math.floor(rand() * mutated.length)] = Math.floor(rand() * 256);
      const whole = new ClientHelloReader().push(mutated);
      const split = feed(randomSplit(mutated, rand, 8)).last;
      assert.deepEqual(split, whole, `mutation #${i}`);
      outcomes.add(whole.status);
    }
    // The fuzzing reached every outcome, so it exercised the parser and not just the header check.
    assert.deepEqual([...outcomes].sort(), ['done', 'error', 'need-more']);
  });
});

describe('readServerNameFromSocket', () => {
  let dir: string;
  let cert: string;
  let key: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portway-sni-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-subj', '/CN=app.example.test', '-addext', 'subjectAltName=DNS:app.example.test', '-days', '2',
    ], { stdio: 'ignore' });
    cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    key = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A TCP server whose connections are handed to `onSocket`; returns its port and a closer. */
  async function tcpServer(onSocket: (s: net.Socket) => void): Promise<{ port: number; close: () => void }> {
    const server = net.createServer(onSocket);
    const port = await listen(server);
    return { port, close: () => server.close() };
  }

  it('peeks the SNI, then the replayed bytes complete a real TLS handshake end to end', async () => {
    // The destination terminates TLS; the "relay" in between only peeks and pipes.
    const destination = tls.createServer({ cert, key }, (s) => {
      s.on('data', (d: Buffer) => s.end(`pong ${(s as tls.TLSSocket).servername} ${d.toString()}`));
    });
    const destPort = await listen(destination);
    const peeks: Array<string | undefined> = [];
    const relay = await tcpServer(async (socket) => {
      const peek = await readServerNameFromSocket(socket, 5000);
      peeks.push(peek.serverName);
      const upstream = net.connect(destPort, '127.0.0.1');
      upstream.write(peek.buffered);
      socket.pipe(upstream).pipe(socket);
    });
    try {
      const client = tls.connect({ host: '127.0.0.1', port: relay.port, servername: 'app.example.test', ca: cert });
      await once(client, 'secureConnect');
      client.write('ping');
      let reply = '';
      client.on('data', (d) => (reply += d));
      await once(client, 'end');
      assert.equal(reply, 'pong app.example.test ping');
      assert.deepEqual(peeks, ['app.example.test']);
    } finally {
      relay.close();
      destination.close();
    }
  });

  it('loses no byte: what arrives after the hello waits in the paused socket', async () => {
    const extra = Buffer.from('EXTRA-BYTES-AFTER-HELLO');
    let extraWritten!: () => void;
    const extraFlushed = new Promise<void>((r) => (extraWritten = r));
    let resolveResult!: (v: { name: string | undefined; paused: boolean; all: Buffer }) => void;
    const result = new Promise<{ name: string | undefined; paused: boolean; all: Buffer }>((r) => (resolveResult = r));
    const server = await tcpServer(async (socket) => {
      const peek = await readServerNameFromSocket(socket, 5000);
      const paused = socket.isPaused();
      socket.write('K'); // tells the client to send more, which arrives while nobody listens
      await extraFlushed;
      await new Promise((r) => setImmediate(r));
      const rest: Buffer[] = [];
      socket.on('data', (d: Buffer) => rest.push(d));
      socket.on('end', () => resolveResult({ name: peek.serverName, paused, all: Buffer.concat([peek.buffered, ...rest]) }));
      socket.resume(); // explicitly paused, so a 'data' listener alone would not restart it
    });
    try {
      const client = net.connect(server.port, '127.0.0.1', () => client.write(sniHello));
      client.once('data', () => client.end(extra, () => extraWritten()));
      const { name, paused, all } = await result;
      assert.equal(name, 'app.example.test');
      assert.equal(paused, true);
      assert.ok(all.equals(Buffer.concat([sniHello, extra])));
    } finally {
      server.close();
    }
  });

  it('reads a hello written one byte per TCP write', async () => {
    let resolvePeek!: (p: Promise<unknown>) => void;
    const peekPromise = new Promise<Promise<unknown>>((r) => (resolvePeek = r));
    const server = await tcpServer((socket) => resolvePeek(readServerNameFromSocket(socket, 5000)));
    try {
      const client = net.connect(server.port, '127.0.0.1');
      client.setNoDelay(true);
      await once(client, 'connect');
      for (const byte of bytewise(sniHello)) await new Promise<void>((r) => client.write(byte, () => r()));
      const peek = (await (await peekPromise)) as { serverName: string; buffered: Buffer };
      assert.equal(peek.serverName, 'app.example.test');
      assert.ok(peek.buffered.equals(sniHello));
      client.destroy();
    } finally {
      server.close();
    }
  });

  async function expectFailure(clientAction: (client: net.Socket) => void, timeoutMs = 5000): Promise<ClientHelloError> {
    let resolveErr!: (e: unknown) => void;
    const failed = new Promise<unknown>((r) => (resolveErr = r));
    const server = await tcpServer((socket) => {
      readServerNameFromSocket(socket, timeoutMs).then(
        () => resolveErr(new Error('resolved unexpectedly')),
        (err) => {
          socket.destroy();
          resolveErr(err);
        },
      );
    });
    const client = net.connect(server.port, '127.0.0.1', () => clientAction(client));
    client.on('error', () => {});
    try {
      const err = await failed;
      assert.ok(err instanceof ClientHelloError, String(err));
      return err;
    } finally {
      client.destroy();
      server.close();
    }
  }

  it('rejects plain HTTP as invalid, with the bytes read', async () => {
    const err = await expectFailure((c) => c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.equal(err.reason, 'invalid');
    assert.ok(err.buffered.toString().startsWith('G'));
  });

  it('rejects a connection closed mid-hello as closed', async () => {
    const err = await expectFailure((c) => c.end(sniHello.subarray(0, 10)));
    assert.equal(err.reason, 'closed');
    assert.ok(err.buffered.equals(sniHello.subarray(0, 10)));
  });

  it('rejects a silent client on timeout', async () => {
    const err = await expectFailure(() => {}, 50);
    assert.equal(err.reason, 'timeout');
    assert.equal(err.buffered.length, 0);
  });

  it('rejects a slow partial hello on timeout', async () => {
    const err = await expectFailure((c) => c.write(sniHello.subarray(0, 100)), 200);
    assert.equal(err.reason, 'timeout');
  });
});
