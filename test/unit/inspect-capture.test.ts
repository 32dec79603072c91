import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Inspector, toCapturedRequest, type Capture } from '../../agent/src/inspect/inspector';
import { replayRequest } from '../../agent/src/inspect/replay';
import { observeExchanges } from '../../agent/src/serve/exchange-observer';
import type { HttpHandler } from '../../agent/src/serve/http-exchange';
import { NodeHttpFront } from '../../agent/src/serve/node-http-front';
import { createReverseProxy } from '../../agent/src/serve/reverse-proxy';
import { request } from '../helpers/http-client';
import { sha256, startOrigin, type TestOrigin } from '../helpers/origin';

// The agent's own request handling (Node HTTP parsing in front of the reverse proxy) on a loopback
// socket, watched by an inspector: what the route table does while the inspector is on.
let origin: TestOrigin;
const fronts: net.Server[] = [];
let port: number;
let downPort: number;
const inspector = new Inspector({ maxRequests: 50, maxBytes: 8 * 1024 * 1024 });
const proxies: (HttpHandler & { close(): void })[] = [];

function handlerFor(domain: string): HttpHandler {
  const proxy = createReverseProxy({ destination: '127.0.0.1', port: domain === 'down.test' ? closedPort : origin.port, hostRewrite: true });
  proxies.push(proxy);
  return observeExchanges(proxy, inspector);
}
let closedPort = 0;

/** The capture of the next request, once its exchange has ended. */
function nextEnded(): Promise<Capture> {
  return new Promise((resolve) => {
    const onUpdate = (c: Capture) => {
      if (c.state !== 'complete' && c.state !== 'reset') return;
      inspector.off('updated', onUpdate);
      resolve(c);
    };
    inspector.on('updated', onUpdate);
  });
}

before(async () => {
  origin = await startOrigin();
  const spare = net.createServer().listen(0, '127.0.0.1');
  await once(spare, 'listening');
  closedPort = (spare.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => spare.close(() => resolve()));
  const http = new NodeHttpFront(handlerFor);
  /** A loopback port whose connections arrive for `host`, as the relay's streams would. */
  const listenFor = async (host: string) => {
    const front = net.createServer((socket) => http.serve(socket, { host, proto: 'http', remoteAddress: '127.0.0.9', remotePort: 1 }));
    fronts.push(front.listen(0, '127.0.0.1'));
    await once(front, 'listening');
    return (front.address() as net.AddressInfo).port;
  };
  port = await listenFor('app.test');
  downPort = await listenFor('down.test');
});

after(async () => {
  for (const p of proxies) p.close();
  for (const f of fronts) f.close();
  await origin.close();
});

describe('capturing requests', () => {
  it('records method, path, status, headers, timing and both bodies', async () => {
    const ended = nextEnded();
    const body = JSON.stringify({ hello: 'inspector' });
    const answer = await request(port, 'app.test', { method: 'POST', path: '/upload?x=1', body, headers: { 'content-type': 'application/json' } });
    const c = toCapturedRequest(await ended);
    assert.equal(answer.status, 200);
    assert.equal(c.method, 'POST');
    assert.equal(c.path, '/upload?x=1');
    assert.equal(c.route, 'app.test');
    assert.equal(c.clientAddress, '127.0.0.9');
    assert.equal(c.status, 200);
    assert.equal(c.state, 'complete');
    assert.equal(c.requestBody.kind, 'json');
    assert.equal(c.requestBody.text, JSON.stringify(JSON.parse(body), null, 2));
    assert.equal(c.bytesIn, body.length);
    assert.equal(c.responseBody.text, answer.body.toString());
    assert.equal(c.bytesOut, answer.body.length);
    assert.ok(c.ttfbMs! >= 0 && c.durationMs! >= c.ttfbMs!, 'ttfb before the end');
    assert.ok(c.requestHeaders.some((h) => h.toLowerCase() === 'content-type'));
  });

  it('counts a large download whole and keeps only its beginning', async () => {
    const ended = nextEnded();
    const answer = await request(port, 'app.test', { path: '/big?bytes=300000' });
    const c = await ended;
    assert.equal(answer.body.length, 300000);
    assert.equal(c.responsePreview.size, 300000);
    assert.equal(c.responsePreview.kept, 64 * 1024);
    assert.equal(toCapturedRequest(c).responseBody.kind, 'binary');
  });

  it('records the 502 of an origin that is down', async () => {
    const ended = nextEnded();
    const answer = await request(downPort, 'down.test', { path: '/api' });
    const c = toCapturedRequest(await ended);
    assert.equal(answer.status, 502);
    assert.equal(c.status, 502);
    assert.equal(c.route, 'down.test');
    assert.match(c.responseBody.text ?? '', /Origin unreachable/);
  });

  it('replays a request to the origin, as captured and edited, each replay captured', async () => {
    const ended = nextEnded();
    const first = await request(port, 'app.test', { method: 'POST', path: '/upload', body: 'original body' });
    const original = await ended;
    const replay = await replayRequest(inspector, handlerFor, original.id);
    assert.equal(replay.replayOf, original.id);
    assert.equal(replay.status, 200);
    assert.equal(toCapturedRequest(replay).responseBody.text, first.body.toString());
    const edited = await replayRequest(inspector, handlerFor, original.id, { body: 'edited' });
    assert.equal(JSON.parse(toCapturedRequest(edited).responseBody.text!).sha256, sha256(Buffer.from('edited')));
    assert.equal(inspector.list()[0].id, edited.id, 'newest first');
    await assert.rejects(replayRequest(inspector, handlerFor, 999999), /no captured request 999999/);
  });
});
