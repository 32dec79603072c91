import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { rawExchange } from '../helpers/raw-http';
import { getThrough } from '../helpers/relay-health';

const HEADERS_TIMEOUT_MS = 1500;
const MAX_HEADER_SIZE = 8 * 1024;
const BODY_TIMEOUT_MS = 1500;
const IDLE_TIMEOUT_MS = 2000;
/** A small stream allowance keeps the share cheap to reach: at the default 50%, 2 per client address. */
const MAX_STREAMS = 4;
const SHARE = MAX_STREAMS / 2;

interface HeldConnection {
  socket: net.Socket;
  /** Everything the relay sent, once it closed the connection. */
  closed: Promise<string>;
}

/** Opens a connection from `localAddress`, writes `bytes`, and keeps it open (never ends its side first). */
function hold(port: number, localAddress: string, bytes: string): HeldConnection {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => socket.write(bytes));
  socket.on('error', () => undefined);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  return { socket, closed: new Promise((resolve) => socket.on('close', () => resolve(text))) };
}

describe('hostile HTTP clients (real relay on loopback)', () => {
  let fx: HostileFixture;
  let host: string;

  before(async () => {
    fx = await startHostileFixture({
      relayArgs: [
        ...['--headers-timeout-ms', String(HEADERS_TIMEOUT_MS), '--max-header-size', String(MAX_HEADER_SIZE)],
        ...['--body-timeout-ms', String(BODY_TIMEOUT_MS), '--idle-timeout-ms', String(IDLE_TIMEOUT_MS), '--max-streams-per-session', String(MAX_STREAMS)],
      ],
    });
    host = fx.canary.hostname;
  });
  after(async () => fx?.stop());

  // Smuggling attempts are in smuggling-both-paths.test.ts: each is fed to the fast and the full path.

  it('refuses malformed and oversized request targets and headers', async () => {
    const cases: [string, string, number][] = [
      ['relative target', `GET foo HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400],
      ['space in target', `GET /a b HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400],
      ['bad version', `GET / HTTP/9.9\r\nHost: ${host}\r\n\r\n`, -1],
      ['control char in target', `GET /\x01 HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400],
      ['huge target', `GET /${'a'.repeat(MAX_HEADER_SIZE * 2)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 431],
      ['huge header', `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'b'.repeat(MAX_HEADER_SIZE * 2)}\r\n\r\n`, 431],
      ['many headers', `GET / HTTP/1.1\r\nHost: ${host}\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: v`).join('\r\n')}\r\n\r\n`, 431],
      ['no header name', `GET / HTTP/1.1\r\nHost: ${host}\r\n: v\r\n\r\n`, 400],
      ['garbage', '\x16\x03\x01\x02\x00garbage\r\n\r\n', 400],
      ['bad chunk size', `POST / HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 0],
    ];
    for (const [name, bytes, status] of cases) {
      const answer = await rawExchange(fx.relay.port, bytes, { endAfterWrite: true });
      if (status === -1) assert.ok([400, 505].includes(answer.status), `${name}: ${answer.text.slice(0, 80)}`);
      else if (status === 0) assert.ok(!/^HTTP\/1\.1 200/.test(answer.text), `${name}: ${answer.text.slice(0, 80)}`);
      else assert.equal(answer.status, status, `${name}: ${answer.text.slice(0, 120)}`);
    }
    await fx.healthy();
  });

  it('closes slowloris connections by the headers timeout while others are served', async () => {
    const started = Date.now();
    const sockets = Array.from({ length: 50 }, () => net.connect(fx.relay.port, '127.0.0.1'));
    const closed = sockets.map((socket) => new Promise<void>((resolve) => socket.on('close', () => resolve())));
    for (const socket of sockets) socket.on('error', () => undefined);
    // Each trickles a byte of its head whenever the canary is answered: never finishing the head.
    const head = `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Slow: ${'s'.repeat(400)}`;
    let offset = 0;
    let open = true;
    void Promise.all(closed).then(() => (open = false));
    while (open) {
      for (const socket of sockets) if (!socket.destroyed) socket.write(head[offset % head.length]);
      offset++;
      const answer = await getThrough(fx.relay.port, host, '/');
      assert.equal(answer.status, 200, 'a normal client is served while slowloris clients trickle');
      assert.ok(Date.now() - started < HEADERS_TIMEOUT_MS * 6, 'slow clients were not closed by the headers timeout');
    }
    await Promise.all(closed);
    assert.ok(Date.now() - started >= HEADERS_TIMEOUT_MS - 100, 'closed by the timeout, not earlier');
    await fx.healthy();
  });

  /** Resolves once the origin has received `count` more requests for `path` (they hold streams by then). */
  function originReceives(path: string, count: number): Promise<void> {
    return new Promise((resolve) => {
      let seen = 0;
      const onRequest = (req: { url?: string }) => {
        if (req.url !== path || ++seen < count) return;
        fx.origin.server.off('request', onRequest);
        resolve();
      };
      fx.origin.server.on('request', onRequest);
    });
  }

  it('slow uploads from one address take at most its share of the tunnel, and are cut (408) when they stall', async () => {
    // Each declares a megabyte, sends one byte of it, then nothing: a stream held for as long as the relay lets it.
    const head = `POST /upload HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1000000\r\n\r\nx`;
    const arrived = originReceives('/upload', SHARE);
    const slow = Array.from({ length: SHARE }, () => hold(fx.relay.port, '127.0.0.2', head));
    await arrived;
    // Beyond its share the same address is told to wait; another address is served as usual.
    const crowded = await rawExchange(fx.relay.port, head, { localAddress: '127.0.0.2' });
    assert.equal(crowded.status, 429, crowded.text.slice(0, 200));
    assert.match(crowded.text, /\r\nretry-after: \d+\r\n/i);
    assert.match(crowded.text, /Too many requests from your address/);
    const other = await getThrough(fx.relay.port, host, '/', '127.0.0.3');
    assert.equal(other.status, 200, other.body.slice(0, 200));
    // The stalled uploads are cut by the body progress timeout: each got its 408 before the close.
    for (const text of await Promise.all(slow.map((c) => c.closed))) assert.match(text, /^HTTP\/1\.1 408 /, text.slice(0, 200));
    // Their streams are back: the address is served again.
    const again = await getThrough(fx.relay.port, host, '/', '127.0.0.2');
    assert.equal(again.status, 200, again.body.slice(0, 200));
    await fx.healthy();
  });

  it('idle keep-alive connections count against the same share', async () => {
    const get = `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
    const idle = Array.from({ length: SHARE }, () => hold(fx.relay.port, '127.0.0.2', get));
    // Each got its answer and stays open, kept alive (its stream with it).
    await Promise.all(idle.map((c) => new Promise((resolve) => c.socket.once('data', resolve))));
    const crowded = await getThrough(fx.relay.port, host, '/', '127.0.0.2');
    assert.equal(crowded.status, 429, crowded.body.slice(0, 200));
    const other = await getThrough(fx.relay.port, host, '/', '127.0.0.3');
    assert.equal(other.status, 200, other.body.slice(0, 200));
    // A kept-alive connection that holds its stream is still served (its requests need no new one).
    idle[0].socket.write(get);
    await new Promise((resolve) => idle[0].socket.once('data', resolve));
    // The idle timeout closes them, and the address is served again.
    for (const text of await Promise.all(idle.map((c) => c.closed))) assert.match(text, /^HTTP\/1\.1 200 /);
    const again = await getThrough(fx.relay.port, host, '/', '127.0.0.2');
    assert.equal(again.status, 200, again.body.slice(0, 200));
    await fx.healthy();
  });

  it('survives a burst of oversized requests and is back near its memory baseline', async () => {
    const big = `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'b'.repeat(MAX_HEADER_SIZE * 4)}\r\n\r\n`;
    const answers = await Promise.all(Array.from({ length: 200 }, () => rawExchange(fx.relay.port, big, { endAfterWrite: true })));
    assert.ok(answers.every((a) => a.status === 431));
    await fx.healthy();
  });
});
