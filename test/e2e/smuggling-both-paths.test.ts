/**
 * The relay parses a visitor's request on one of two paths: its own fast parser (a fresh
 * connection to a tunnel) or Node's parser (the full server, which gets a connection once the fast
 * path hands it off). Both must refuse the same inputs with the same status, or a request could
 * choose the lenient one. Each raw request goes to one real relay twice: alone on a new connection
 * (fast path), and on a connection the fast path already handed to the full server, by a first
 * request for the relay's own health endpoint (full path).
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { rawExchange } from '../helpers/raw-http';

/**
 * Each request names the canary tunnel, so anything that slipped through would reach its origin.
 * One difference is kept on purpose: `Content-Length: 5<HTAB>` is served by the fast path (RFC 9112
 * allows OWS around a value, and both of its readers frame it as 5 bytes) though Node's parser
 * refuses it on the full path; a refusal on one path is safe, a different framing would not be.
 */
const REFUSED: Record<string, string> = {
  'CL and TE': 'POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'TE and CL': 'POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n',
  'duplicate CL': 'POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nhello',
  'duplicate equal CL': 'POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
  'CL list': 'POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5, 5\r\n\r\nhello',
  'signed CL': 'POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: +5\r\n\r\nhello',
  'TE "chunked,"': 'POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked,\r\n\r\n0\r\n\r\n',
  'TE "chunked, identity"': 'POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
  'TE "identity, chunked"': 'POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n',
  'TE xchunked': 'POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
  'two TE headers': 'POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'obs-fold': 'GET / HTTP/1.1\r\nHost: {host}\r\nX-A: b\r\n c\r\n\r\n',
  'obs-fold TE': 'POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n',
  'bare LF': 'GET / HTTP/1.1\nHost: {host}\n\n',
  'bare LF in headers': 'GET / HTTP/1.1\r\nHost: {host}\nX: y\r\n\r\n',
  'space before colon': 'POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length : 5\r\n\r\nhello',
  'two Host headers': 'GET / HTTP/1.1\r\nHost: {host}\r\nHost: other.localhost\r\n\r\n',
  'no Host in HTTP/1.1': 'GET / HTTP/1.1\r\nX: {host}\r\n\r\n',
  'NUL in a header': 'GET / HTTP/1.1\r\nHost: {host}\r\nX: a\x00b\r\n\r\n',
  'no header name': 'GET / HTTP/1.1\r\nHost: {host}\r\n: v\r\n\r\n',
  'relative target': 'GET foo HTTP/1.1\r\nHost: {host}\r\n\r\n',
  'space in target': 'GET /a b HTTP/1.1\r\nHost: {host}\r\n\r\n',
  'control char in target': 'GET /\x01 HTTP/1.1\r\nHost: {host}\r\n\r\n',
  // Found by comparing the fast path's readers with Node's parser (llhttp), which the full path uses.
  'lower-case method': 'get / HTTP/1.1\r\nHost: {host}\r\n\r\n',
  'unknown method': 'FOO / HTTP/1.1\r\nHost: {host}\r\n\r\n',
  'PRI in an HTTP/1.1 request line': 'PRI / HTTP/1.1\r\nHost: {host}\r\n\r\n',
  'HTTP/2 preface': 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  'non-ASCII byte in target': 'GET /caf\xe9 HTTP/1.1\r\nHost: {host}\r\n\r\n',
  'DEL in target': 'GET /a\x7f HTTP/1.1\r\nHost: {host}\r\n\r\n',
  'no-break space after TE chunked': 'POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\n',
  'no-break space before CL': 'POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: \xa05\r\n\r\nhello',
};

/**
 * Only SP and HTAB are trimmed from a Host: with a no-break space at an edge it names no tunnel,
 * on either path (the relay answers it as a request without a usable Host, the same way on both).
 */
const NOT_ROUTED: Record<string, string> = {
  'no-break space after Host': 'GET / HTTP/1.1\r\nHost: {host}\xa0\r\nConnection: close\r\n\r\n',
  'no-break space before Host': 'GET / HTTP/1.1\r\nHost: \xa0{host}\r\nConnection: close\r\n\r\n',
};

/** Not requests for a resource: the relay answers them itself, 501, and never forwards them. */
const NOT_FORWARDED: Record<string, string> = {
  'OPTIONS *': 'OPTIONS * HTTP/1.1\r\nHost: {host}\r\n\r\n',
  CONNECT: 'CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n',
};

/** Served by the full server: the fast path hands the connection over at this request. */
const HAND_OFF = 'GET /_portway/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

/**
 * Sends HAND_OFF, waits for its whole answer (so the full server has no response in flight, and
 * answers a parse error with a status instead of just closing), then sends `request`; resolves with
 * everything received once the relay closes (it does after a refusal, or a request with Connection: close).
 */
function exchangeAfterHandOff(port: number, request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.write(HAND_OFF));
    let text = '';
    let sent = false;
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      // The health answer is chunked: it is whole at its last chunk.
      if (!sent && text.includes('"status":"ok"') && text.endsWith('\r\n0\r\n\r\n')) {
        sent = true;
        socket.write(request);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    socket.on('close', () => resolve(text));
  });
}

const statusLines = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

describe('smuggling: the fast path and the full path refuse the same requests (real relay on loopback)', () => {
  let fx: HostileFixture;
  let originRequests = 0;

  before(async () => {
    fx = await startHostileFixture();
    fx.origin.server.on('request', () => originRequests++);
  });
  after(async () => fx?.stop());

  for (const [name, template] of Object.entries(REFUSED)) {
    it(`refuses on both paths: ${name}`, async () => {
      // One byte a character (a string would go out as UTF-8).
      const request = Buffer.from(template.replaceAll('{host}', fx.canary.hostname), 'latin1');
      const before = originRequests;
      const fast = await rawExchange(fx.relay.port, request, { endAfterWrite: true });
      const full = await exchangeAfterHandOff(fx.relay.port, request);
      assert.match(full, /"status":"ok"/, 'the full server answered the hand-off request first');
      const [fastStatus] = statusLines(fast.text);
      const [handOffStatus, fullStatus] = statusLines(full);
      assert.equal(handOffStatus, 200);
      assert.ok(fastStatus >= 400, `fast path: ${fast.text.slice(0, 120)}`);
      assert.equal(fullStatus, fastStatus, `full path: ${full.slice(full.indexOf('}') + 1, 400)}`);
      assert.equal(originRequests, before, 'the origin must not be reached');
    });
  }

  for (const [name, template] of Object.entries(NOT_ROUTED)) {
    it(`routes to no tunnel, the same on both paths: ${name}`, async () => {
      const request = Buffer.from(template.replaceAll('{host}', fx.canary.hostname), 'latin1');
      const before = originRequests;
      const fast = await rawExchange(fx.relay.port, request);
      const full = await exchangeAfterHandOff(fx.relay.port, request);
      const [fastStatus] = statusLines(fast.text);
      assert.deepEqual(statusLines(full), [200, fastStatus], `full path: ${full.slice(full.indexOf('}') + 1, 400)}`);
      assert.ok(!fast.text.includes(fx.canary.marker) && !full.includes(fx.canary.marker), 'the canary must not answer');
      assert.equal(originRequests, before, 'the origin must not be reached');
    });
  }

  for (const [name, template] of Object.entries(NOT_FORWARDED)) {
    it(`answers 501 on both paths: ${name}`, async () => {
      const request = template.replaceAll('{host}', fx.canary.hostname);
      const before = originRequests;
      const fast = await rawExchange(fx.relay.port, request, { endAfterWrite: true });
      const full = await exchangeAfterHandOff(fx.relay.port, request);
      assert.deepEqual(statusLines(fast.text), [501], `fast path: ${fast.text.slice(0, 120)}`);
      assert.deepEqual(statusLines(full), [200, 501], `full path: ${full.slice(full.indexOf('}') + 1, 400)}`);
      assert.equal(originRequests, before, 'the origin must not be reached');
    });
  }

  it('serves a sound request on both paths (the table above is not refused for its shape)', async () => {
    const request = `POST /upload HTTP/1.1\r\nHost: ${fx.canary.hostname}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`;
    const fast = await rawExchange(fx.relay.port, request);
    const full = await exchangeAfterHandOff(fx.relay.port, request);
    assert.deepEqual(statusLines(fast.text), [200]);
    assert.deepEqual(statusLines(full), [200, 200]);
    assert.match(full, /"size":5/);
  });
});
