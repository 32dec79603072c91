import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { rawExchange } from '../helpers/raw-http';
import { getThrough } from '../helpers/relay-health';

const HEADERS_TIMEOUT_MS = 1500;
const MAX_HEADER_SIZE = 8 * 1024;

describe('hostile HTTP clients (real relay on loopback)', () => {
  let fx: HostileFixture;
  let host: string;

  before(async () => {
    fx = await startHostileFixture({ relayArgs: ['--headers-timeout-ms', String(HEADERS_TIMEOUT_MS), '--max-header-size', String(MAX_HEADER_SIZE)] });
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

  it('survives a burst of oversized requests and is back near its memory baseline', async () => {
    const big = `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'b'.repeat(MAX_HEADER_SIZE * 4)}\r\n\r\n`;
    const answers = await Promise.all(Array.from({ length: 200 }, () => rawExchange(fx.relay.port, big, { endAfterWrite: true })));
    assert.ok(answers.every((a) => a.status === 431));
    await fx.healthy();
  });
});
