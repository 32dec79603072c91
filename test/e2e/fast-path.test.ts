import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type TestOrigin } from '../helpers/origin';
import { startTunnel, type TunnelFixture } from '../helpers/tunnel-fixture';
import { type RelayProcess } from '../helpers/processes';

/** Sends raw bytes on one connection and collects everything until `until` matches (or the socket closes). */
function exchange(port: number, text: string, until: (answer: string) => boolean, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => socket.write(text));
    let answer = '';
    const finish = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.on('data', (c) => {
      answer += c.toString('latin1');
      if (until(answer)) finish();
    });
    socket.on('close', finish);
    socket.on('error', reject);
  });
}

/** Sends `text` and half-closes at once (`printf … | nc -N`); resolves with all that comes back once the relay ends its side. */
function halfClosedExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => socket.end(text));
    let answer = '';
    socket.on('data', (c) => (answer += c.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

describe('relay fast path: raw HTTP over one stream per connection', () => {
  let relay: RelayProcess;
  let origin: TestOrigin;
  let hostname: string;
  let originConnections = 0;

  let fx: TunnelFixture;

  before(async () => {
    fx = await startTunnel();
    ({ relay, origin, hostname } = fx);
    origin.server.on('connection', () => originConnections++);
  });
  after(async () => fx?.stop());

  it('answers pipelined requests in order over one origin connection', async () => {
    const before = originConnections;
    const requests = [1, 2, 3, 4, 5].map((n) => `GET /p${n} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`).join('');
    const answer = await exchange(relay.port, requests, (a) => a.includes('hello from origin /p5'));
    const order = [...answer.matchAll(/hello from origin \/p(\d)/g)].map((m) => m[1]);
    assert.deepEqual(order, ['1', '2', '3', '4', '5']);
    assert.equal(originConnections - before, 1);
  });

  it('forwards a chunked upload and HEAD / 100-continue correctly', async () => {
    const body = '4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n';
    const upload = await exchange(relay.port, `POST /upload HTTP/1.1\r\nHost: ${hostname}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`, (a) => a.includes('"size":7'));
    assert.match(upload, /"size":7/);
    const headAnswer = await exchange(relay.port, `HEAD /x HTTP/1.1\r\nHost: ${hostname}\r\n\r\nGET /after-head HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`, (a) => a.includes('/after-head'));
    assert.equal(count(headAnswer, /HTTP\/1\.1 200/g), 2, 'a HEAD answer has no body; the next response follows it');
    const continued = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: relay.port, path: '/upload', method: 'POST', headers: { host: hostname, expect: '100-continue', 'content-length': 3 } });
      req.on('continue', () => req.end('xyz'));
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
    });
    assert.match(continued, /"size":3/);
  });

  it('answers a visitor that half-closes right after its request (printf … | nc -N), then closes', async () => {
    const answer = await halfClosedExchange(relay.port, `GET /half-closed HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.match(answer, /hello from origin \/half-closed/);
    // The same on the full server (the relay's own endpoint is served there, after a hand-off).
    const health = await halfClosedExchange(relay.port, 'GET /_portway/health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.match(health, /^HTTP\/1\.1 200 /);
    assert.match(health, /"status":"ok"/);
    const proxied = await halfClosedExchange(relay.port, `GET http://${hostname}/absolute HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    assert.match(proxied, /^HTTP\/1\.1 200 /);
    assert.match(proxied, /hello from origin \S*\/absolute/);
  });

  it('hands a connection to the full server when a later request needs it, keeping order', async () => {
    const text =
      `GET /first HTTP/1.1\r\nHost: ${hostname}\r\n\r\n` + // fast path
      `GET /_portway/health HTTP/1.1\r\nHost: localhost\r\n\r\n` + // the relay's own endpoint
      `GET /third HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`; // back to the tunnel, now through the full server
    const answer = await exchange(relay.port, text, (a) => a.includes('hello from origin /third'));
    const first = answer.indexOf('/first');
    const health = answer.indexOf('"status":"ok"');
    const third = answer.indexOf('/third');
    assert.ok(first >= 0 && health > first && third > health, answer);
  });

  it('checks the firewall on every request of a kept-alive connection', async () => {
    await fx.change(['route', 'http', 'firewall', 'drop', '--domain', hostname, '--network', '127.0.0.7']);
    const answer = await exchange(relay.port, `GET /one HTTP/1.1\r\nHost: ${hostname}\r\n\r\nGET /two HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`, (a) => count(a, /HTTP\/1\.1 403/g) >= 2, '127.0.0.7');
    assert.equal(count(answer, /HTTP\/1\.1 403/g), 2);
    assert.doesNotMatch(answer, /hello from origin/);
    const admitted = await exchange(relay.port, `GET /ok HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`, (a) => a.includes('/ok'), '127.0.0.8');
    assert.match(admitted, /hello from origin \/ok/);
    await fx.change(['route', 'http', 'firewall', 'rm', '--domain', hostname, '--network', '127.0.0.7']);
  });

  it('refuses smuggling attempts with 400 and closes, on a fresh or a used connection', async () => {
    const fresh = await exchange(relay.port, `POST / HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, () => false);
    assert.match(fresh, /^HTTP\/1\.1 400/);
    const used = await exchange(
      relay.port,
      `GET /fine HTTP/1.1\r\nHost: ${hostname}\r\n\r\nPOST / HTTP/1.1\r\nHost: ${hostname}\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
      () => false,
    );
    assert.match(used, /hello from origin \/fine/);
    assert.match(used, /HTTP\/1\.1 400/);
    assert.equal(count(used, /hello from origin/g), 1);
  });
});
