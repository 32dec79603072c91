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
  assert.deepEqual([big.method, big.status, big.state, big.responseBody.size], ['HEAD', 200, 'complete', 0]);
  assert.deepEqual([small.status, small.state, small.responseBody.size], [404, 'complete', 3]);
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
  assert.deepEqual([inspector.list()[0].state, inspector.list()[0].responseBody.size], ['complete', 9]);

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
