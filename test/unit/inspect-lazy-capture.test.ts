// What the fast path's tap keeps per request, and how little: heads as text parsed only when
// asked for (and then exactly as before), body previews made only when a body comes, binary
// bytes kept exactly, no events built when nobody listens.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { BodyPreview, NO_BODY } from '../../agent/src/inspect/body-preview';
import { HttpHeadError, hostOf, parseHttpHead, rawHeadersOf } from '../../agent/src/inspect/http-head';
import { Inspector, toCapturedRequest } from '../../agent/src/inspect/inspector';
import { RawHttpTap } from '../../agent/src/inspect/raw-http-tap';

const open = { kind: 'http-raw' as const, host: 'app.relay.test', proto: 'http' as const, remoteAddress: '198.51.100.7', remotePort: 4444 };

test('a head is read for framing and Host only; its header list is made on demand, folds joined, case kept', () => {
  const text = 'POST /a?b=1 HTTP/1.1\r\nhOsT: app.relay.test\r\nX-Long:  first\r\n   second  \r\nContent-Length: 3\r\nX-Empty:\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket';
  const head = parseHttpHead(text, true);
  assert.deepEqual([head.method, head.url, hostOf(head, 'other.test'), head.contentLength, head.upgrade], ['POST', '/a?b=1', 'app.relay.test', 3, true]);
  assert.equal(hostOf(parseHttpHead('GET / HTTP/1.1', true), 'route.test'), 'route.test', 'no Host: the route');
  assert.deepEqual(rawHeadersOf(head.text, head.headersFrom), ['hOsT', 'app.relay.test', 'X-Long', 'first second', 'Content-Length', '3', 'X-Empty', '', 'Connection', 'keep-alive, Upgrade', 'Upgrade', 'websocket']);
});

test('every header line is still checked up front, so the later parse cannot fail', () => {
  assert.throws(() => parseHttpHead('GET / HTTP/1.1\r\nHost: a\r\nno colon here', true), HttpHeadError);
  assert.throws(() => parseHttpHead('GET / HTTP/1.1\r\nX-Bad : a', true), HttpHeadError);
  assert.throws(() => parseHttpHead('GET / HTTP/1.1\r\n folded first', true), HttpHeadError);
  assert.throws(() => parseHttpHead('GET/HTTP/1.1', true), HttpHeadError);
  assert.throws(() => parseHttpHead('HTTP/1.1 2000 OK', false), HttpHeadError);
  assert.throws(() => parseHttpHead('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2', false), HttpHeadError);
});

test('a capture from the tap gives the same headers, Host and bodies as before; no preview without a body', () => {
  const inspector = new Inspector();
  const tap = new RawHttpTap(inspector, open);
  tap.fromVisitor(Buffer.from('GET /x HTTP/1.1\r\nHost: shown.example\r\nAccept: */*\r\n\r\n'));
  tap.fromOrigin(Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\n\x00\xff\x80\x7f', 'latin1'));
  const [capture] = inspector.list();
  assert.equal(capture.requestPreview, NO_BODY, 'a request without a body gets no preview of its own');
  assert.deepEqual(capture.requestHeaders, ['Host', 'shown.example', 'Accept', '*/*']);
  assert.deepEqual(capture.responseHeaders, ['Content-Type', 'application/octet-stream', 'Content-Length', '4']);
  assert.ok(capture.responsePreview.bytes().equals(Buffer.from([0x00, 0xff, 0x80, 0x7f])), 'binary bytes are kept exactly');
  const shown = toCapturedRequest(capture);
  assert.deepEqual([shown.host, shown.route, shown.bytesIn, shown.bytesOut, shown.requestBody.kind, shown.responseBody.kind], ['shown.example', 'app.relay.test', 0, 4, 'empty', 'binary']);
});

test('the ring is charged for the kept head text and body bytes', () => {
  const inspector = new Inspector();
  const tap = new RawHttpTap(inspector, open);
  const request = 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n';
  tap.fromVisitor(Buffer.from(`${request}hello`));
  const before = inspector.heldBytes;
  tap.fromOrigin(Buffer.from('HTTP/1.1 204 No Content\r\nX: y\r\n\r\n'));
  assert.equal(inspector.heldBytes - before, 'HTTP/1.1 204 No Content\r\nX: y'.length, 'the answer head counts its bytes kept');
  assert.equal(before, 512 + request.length - 4 + '/p'.length + 5, 'overhead, head, path and body');
});

test('without listeners no event is emitted; with one, each change is', () => {
  const inspector = new Inspector();
  const emitted: string[] = [];
  const emit = inspector.emit.bind(inspector);
  inspector.emit = ((name: 'captured' | 'updated', ...args: unknown[]) => (emitted.push(name), (emit as (...a: unknown[]) => boolean)(name, ...args))) as typeof inspector.emit;
  const tap = new RawHttpTap(inspector, open);
  tap.fromVisitor(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
  tap.fromOrigin(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  assert.deepEqual(emitted, []);
  const seen: string[] = [];
  inspector.on('captured', (c) => seen.push(`captured ${c.path}`));
  inspector.on('updated', (c) => seen.push(`${c.state} ${c.path}`));
  tap.fromVisitor(Buffer.from('GET /two HTTP/1.1\r\nHost: a\r\n\r\n'));
  tap.fromOrigin(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  assert.deepEqual(seen, ['captured /two', 'streaming /two', 'complete /two']);
});

test('a body preview of many chunks keeps them in order, whether or not other copies came between', () => {
  const preview = new BodyPreview(10);
  const other = new BodyPreview(10);
  assert.equal(preview.add(Buffer.from('abc')), 3);
  assert.equal(preview.add(Buffer.from('de')), 2, 'one run in the arena');
  other.add(Buffer.from('xyz'));
  assert.equal(preview.add(Buffer.from('fghijkl')), 5, 'kept beside the run');
  assert.deepEqual([preview.bytes().toString(), preview.kept, preview.size, preview.truncated], ['abcdefghij', 10, 12, true]);
  assert.equal(other.bytes().toString(), 'xyz');
});

test('large and many copies: each preview reads back its own bytes across arena slabs', () => {
  const previews = Array.from({ length: 300 }, (_, i) => {
    const p = new BodyPreview();
    p.add(Buffer.alloc(i % 2 ? 1000 : 20_000, i % 251));
    return p;
  });
  previews.forEach((p, i) => assert.ok(p.bytes().equals(Buffer.alloc(i % 2 ? 1000 : 20_000, i % 251)), `preview ${i}`));
});
