// The fast path's byte tap: exchanges parsed beside the pipe from the raw bytes both ways,
// split at any byte, pipelined, chunked, HEAD, an upgrade, a cut connection and garbage.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { RawHttpTap } from '../../agent/src/inspect/raw-http-tap';
import { Inspector, toCapturedRequest } from '../../agent/src/inspect/inspector';

const open = { kind: 'http-raw' as const, host: 'app.relay.test', proto: 'https' as const, remoteAddress: '203.0.113.9', remotePort: 5555 };

/** Feeds `bytes` a few bytes at a time (heads and bodies split anywhere). */
function feed(into: (chunk: Buffer) => void, bytes: string, step = 7): void {
  const b = Buffer.from(bytes, 'latin1');
  for (let i = 0; i < b.length; i += step) into(b.subarray(i, i + step));
}

test('pipelined requests with bodies and a chunked answer become separate captures, in order', () => {
  const inspector = new Inspector();
  const tap = new RawHttpTap(inspector, open);
  feed((c) => tap.fromVisitor(c), 'POST /orders HTTP/1.1\r\nHost: app.relay.test\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"sku":"A1"}GET /items?page=2 HTTP/1.1\r\nHost: app.relay.test\r\n\r\n');
  feed((c) => tap.fromOrigin(c), 'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"order":1}');
  feed((c) => tap.fromOrigin(c), 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', 3);
  const [items, orders] = inspector.list().map(toCapturedRequest);
  assert.deepEqual([orders.method, orders.path, orders.status, orders.state, orders.bytesIn, orders.bytesOut], ['POST', '/orders', 201, 'complete', 12, 11]);
  assert.equal(orders.requestBody.kind, 'json');
  assert.equal(orders.clientAddress, '203.0.113.9');
  assert.equal(orders.route, 'app.relay.test');
  assert.deepEqual([items.method, items.path, items.status, items.state, items.bytesOut], ['GET', '/items?page=2', 200, 'complete', 11]);
  assert.equal(items.responseBody.text, 'hello world', 'the chunked framing is removed');
  assert.ok(items.durationMs !== undefined && items.ttfbMs !== undefined);
});

test('a HEAD answer has no body whatever its Content-Length; the next answer is still found', () => {
  const inspector = new Inspector();
  const tap = new RawHttpTap(inspector, open);
  tap.fromVisitor(Buffer.from('HEAD /big HTTP/1.1\r\nHost: a\r\n\r\nGET /small HTTP/1.1\r\nHost: a\r\n\r\n'));
  tap.fromOrigin(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!'));
  const [small, big] = inspector.list();
  assert.deepEqual([big.method, big.status, big.state, big.responsePreview.size], ['HEAD', 200, 'complete', 0]);
  assert.deepEqual([small.status, small.state, small.responsePreview.size], [404, 'complete', 3]);
});

test('an answer cut short is a reset; one framed by the close completes; a WebSocket upgrade ends at 101', () => {
  const inspector = new Inspector();
  const cut = new RawHttpTap(inspector, open);
  cut.fromVisitor(Buffer.from('GET /download HTTP/1.1\r\nHost: a\r\n\r\n'));
  cut.fromOrigin(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'));
  cut.close('connection reset');
  assert.deepEqual([inspector.list()[0].state, inspector.list()[0].error], ['reset', 'connection reset']);

  const untilClose = new RawHttpTap(inspector, open);
  untilClose.fromVisitor(Buffer.from('GET /old HTTP/1.1\r\nHost: a\r\n\r\n'));
  untilClose.fromOrigin(Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it'));
  untilClose.close();
  assert.deepEqual([inspector.list()[0].state, inspector.list()[0].responsePreview.size], ['complete', 9]);

  const ws = new RawHttpTap(inspector, open);
  ws.fromVisitor(Buffer.from('GET /live HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'));
  ws.fromVisitor(Buffer.from([0x81, 0x85, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  ws.fromOrigin(Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'));
  ws.fromOrigin(Buffer.from([0x81, 0x02, 0x68, 0x69]));
  ws.close();
  const live = inspector.list()[0];
  assert.deepEqual([live.path, live.status, live.state], ['/live', 101, 'complete']);
});

test('bytes that are not HTTP stop the tap for that connection without throwing', () => {
  const inspector = new Inspector();
  const tap = new RawHttpTap(inspector, open);
  tap.fromVisitor(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
  tap.fromOrigin(Buffer.from('\x00\x01garbage that is no status line\r\n\r\n'));
  tap.fromOrigin(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
  assert.equal(inspector.list()[0].state, 'reset');
  assert.match(inspector.list()[0].error ?? '', /could not parse the answer/);
});

test('a chunked answer with extensions and trailers is counted and previewed without its framing', () => {
  const inspector = new Inspector();
  const tap = new RawHttpTap(inspector, open);
  tap.fromVisitor(Buffer.from('GET /stream HTTP/1.1\r\nHost: a\r\n\r\n'));
  feed((c) => tap.fromOrigin(c), 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\nA;name=x\r\n0123456789\r\n1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n', 1);
  const [stream] = inspector.list();
  assert.deepEqual([stream.status, stream.state, stream.responsePreview.size, stream.responsePreview.bytes().toString()], [200, 'complete', 11, '0123456789!']);
});

test('pipelined requests in one read, answered in one read, are matched in order', () => {
  const inspector = new Inspector();
  const tap = new RawHttpTap(inspector, open);
  const requests = [1, 2, 3].map((n) => `GET /r${n} HTTP/1.1\r\nHost: a\r\n\r\n`).join('');
  tap.fromVisitor(Buffer.from(requests));
  tap.fromOrigin(Buffer.from([200, 404, 500].map((s) => `HTTP/1.1 ${s} X\r\nContent-Length: 2\r\n\r\n${s % 100}!`).join('')));
  const got = inspector.list().reverse().map((c) => [c.path, c.status, c.state, c.responsePreview.bytes().toString()]);
  assert.deepEqual(got, [['/r1', 200, 'complete', '0!'], ['/r2', 404, 'complete', '4!'], ['/r3', 500, 'complete', '0!']]);
});

test('a 1 MiB body both ways is counted whole and kept only up to 64 KiB', () => {
  const inspector = new Inspector();
  const tap = new RawHttpTap(inspector, open);
  const mib = 1024 * 1024;
  tap.fromVisitor(Buffer.from(`PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${mib}\r\n\r\n`));
  for (let i = 0; i < 16; i++) tap.fromVisitor(Buffer.alloc(mib / 16, i));
  tap.fromOrigin(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${mib}\r\n\r\n`));
  for (let i = 0; i < 4; i++) tap.fromOrigin(Buffer.alloc(mib / 4, 0x61 + i));
  const [upload] = inspector.list();
  assert.equal(upload.state, 'complete');
  assert.deepEqual([upload.requestPreview.size, upload.requestPreview.kept, upload.requestPreview.truncated], [mib, 64 * 1024, true]);
  assert.deepEqual([upload.responsePreview.size, upload.responsePreview.kept, upload.responsePreview.truncated], [mib, 64 * 1024, true]);
  assert.ok(upload.requestPreview.bytes().equals(Buffer.alloc(64 * 1024, 0)), 'the preview is the first 64 KiB');
});

test('a head split across reads, even inside its blank line, is put together', () => {
  for (const at of [3, 20, 33, 34, 35]) {
    const inspector = new Inspector();
    const tap = new RawHttpTap(inspector, open);
    const head = Buffer.from('GET /split HTTP/1.1\r\nHost: a\r\n\r\n');
    const reused = Buffer.alloc(64); // a pooled read buffer: overwritten after each read
    for (const part of [head.subarray(0, at), head.subarray(at)]) {
      part.copy(reused);
      tap.fromVisitor(reused.subarray(0, part.length));
      reused.fill(0x78);
    }
    tap.fromOrigin(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    const [split] = inspector.list();
    assert.deepEqual([split.path, split.host, split.status, split.state], ['/split', 'a', 200, 'complete'], `split at ${at}`);
  }
});

test('after a WebSocket upgrade nothing more is parsed; a refused upgrade goes on as HTTP', () => {
  const inspector = new Inspector();
  const ws = new RawHttpTap(inspector, open);
  ws.fromVisitor(Buffer.from('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'));
  ws.fromOrigin(Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello'));
  ws.fromVisitor(Buffer.from('GET /not-http HTTP/1.1\r\n\r\n'));
  ws.fromOrigin(Buffer.from('HTTP/1.1 200 looks like HTTP but is a frame\r\n\r\n'));
  ws.close();
  assert.deepEqual(inspector.list().map((c) => [c.path, c.status, c.state]), [['/ws', 101, 'complete']]);

  const refused = new RawHttpTap(inspector, open);
  refused.fromVisitor(Buffer.from('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'));
  refused.fromOrigin(Buffer.from('HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n'));
  refused.fromVisitor(Buffer.from('GET /after HTTP/1.1\r\nHost: a\r\n\r\n'));
  refused.fromOrigin(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  assert.deepEqual(inspector.list().slice(0, 2).map((c) => [c.path, c.status, c.state]), [['/after', 200, 'complete'], ['/ws', 426, 'complete']]);
});

test('malformed chunk framing and oversized heads stop the tap with a reset', () => {
  const inspector = new Inspector();
  const chunked = new RawHttpTap(inspector, open);
  chunked.fromVisitor(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
  chunked.fromOrigin(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'));
  assert.match(inspector.list()[0].error ?? '', /could not parse the answer/);

  const huge = new RawHttpTap(inspector, open);
  huge.fromVisitor(Buffer.from('GET /big-head HTTP/1.1\r\nHost: a\r\n\r\n'));
  huge.fromOrigin(Buffer.from(`HTTP/1.1 200 OK\r\nX-Fill: ${'f'.repeat(70 * 1024)}`));
  assert.equal(inspector.list()[0].state, 'reset');
});
