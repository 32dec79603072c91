import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { request } from '../helpers/http-client';
import { patternChunk, patternDigest, type TestOrigin } from '../helpers/origin';
import { type RelayProcess } from '../helpers/processes';
import { startTunnel, type TunnelFixture } from '../helpers/tunnel-fixture';

const MiB = 1024 * 1024;

describe('HTTP through relay and agent (real processes on loopback)', () => {
  let relay: RelayProcess;
  let origin: TestOrigin;
  let hostname: string;

  let fx: TunnelFixture;

  before(async () => {
    fx = await startTunnel();
    ({ relay, origin, hostname } = fx);
  });

  after(async () => fx?.stop());

  it('assigns a pktriot-style hostname under the relay domain', () => {
    assert.match(hostname, /^[a-z]+-[a-z]+-\d{5}\.localhost$/);
  });

  it('round-trips a request with X-Forwarded-* set and Host rewritten to the destination', async () => {
    const res = await request(relay.port, hostname, { path: '/echo-headers?x=1', headers: { 'x-forwarded-for': '6.6.6.6' } });
    assert.equal(res.status, 200);
    const seen = JSON.parse(res.body.toString());
    assert.equal(seen.url, '/echo-headers?x=1');
    assert.equal(seen.headers.host, `127.0.0.1:${origin.port}`);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'a client-sent X-Forwarded-For is replaced, not appended to');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], hostname);
  });

  it('routes by Host case-insensitively, ignoring port and trailing dot', async () => {
    const res = await request(relay.port, `${hostname.toUpperCase()}.:${relay.port}`, { path: '/x' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'hello from origin /x');
  });

  it('keeps the visitor Host with --no-host-rewrite, on a subdomain route', async () => {
    const domain = `raw.${hostname}`;
    await fx.change(['route', 'http', 'add', '--domain', domain, '--destination', '127.0.0.1', '--http', String(origin.port), '--no-host-rewrite']);
    const res = await request(relay.port, domain, { path: '/echo-headers' });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body.toString()).headers.host, domain);
  });

  it('reuses one client connection for several requests (keep-alive)', async () => {
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<net.Socket>();
    keepAlive.on('free', (socket) => sockets.add(socket));
    for (let i = 0; i < 5; i++) {
      const res = await request(relay.port, hostname, { path: `/k${i}`, agent: keepAlive });
      assert.equal(res.body.toString(), `hello from origin /k${i}`);
    }
    assert.equal(sockets.size, 1, 'all five requests used the same socket');
    keepAlive.destroy();
  });

  it('carries a 100 MiB upload intact (checksum)', async () => {
    const total = 100 * MiB;
    const chunk = patternChunk();
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: relay.port, path: '/upload', method: 'POST', headers: { host: hostname, 'content-length': total } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    const { size, sha256 } = JSON.parse(answer);
    assert.equal(size, total);
    assert.equal(sha256, patternDigest(total));
  });

  it('carries a 100 MiB download intact (checksum)', async () => {
    const total = 100 * MiB;
    const digest = await new Promise<{ size: number; sha256: string }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: relay.port, path: `/big?bytes=${total}`, headers: { host: hostname } }, (res) => {
          const hash = createHash('sha256');
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            hash.update(c);
          });
          res.on('end', () => resolve({ size, sha256: hash.digest('hex') }));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    assert.equal(digest.size, total);
    assert.equal(digest.sha256, patternDigest(total));
  });

  it('passes a WebSocket upgrade through both hops (echo)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/socket`, { headers: { host: hostname } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const echoes: string[] = [];
    for (const text of ['one', 'two', 'x'.repeat(200_000)]) {
      const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(data.toString())));
      ws.send(text);
      echoes.push(await echoed);
    }
    assert.deepEqual(echoes.map((e) => e.length), [3, 3, 200_000]);
    assert.equal(echoes[0], 'one');
    ws.close();
  });

  it('delivers server-sent events one by one, unbuffered', async () => {
    const events: string[] = [];
    let onEvent: (() => void) | undefined;
    const done = new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: relay.port, path: '/sse', headers: { host: hostname } }, (res) => {
          assert.equal(res.headers['content-type'], 'text/event-stream');
          res.setEncoding('utf8');
          res.on('data', (text: string) => {
            for (const line of text.split('\n')) if (line.startsWith('data: ')) events.push(line.slice(6));
            onEvent?.();
          });
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    // The origin writes event n only after we saw event n-1 through the tunnel.
    for (let n = 1; n <= 3; n++) {
      const arrived = new Promise<void>((resolve) => (onEvent = () => events.length >= n && resolve()));
      origin.releaseNextEvent();
      await arrived;
      assert.equal(events.length, n, `event ${n} arrived before event ${n + 1} was written`);
    }
    await done;
    assert.deepEqual(events, ['event 1', 'event 2', 'event 3']);
  });

  it('answers 404 for an unknown host', async () => {
    const res = await request(relay.port, 'nobody-here-12345.localhost');
    assert.equal(res.status, 404);
    const other = await request(relay.port, 'example.org');
    assert.equal(other.status, 404);
  });

  it('answers 502 saying so when the origin is down', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const domain = `down.${hostname}`;
    await fx.change(['route', 'http', 'add', '--domain', domain, '--destination', '127.0.0.1', '--http', String(deadPort)]);
    const res = await request(relay.port, domain);
    assert.equal(res.status, 502);
    assert.match(res.body.toString(), /could not reach 127\.0\.0\.1:\d+/);
  });

  it('refuses a request with both Content-Length and Transfer-Encoding', async () => {
    const answer = await rawExchange(relay.port, `POST / HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 400/);
  });

  it('refuses a request with two Host headers', async () => {
    const answer = await rawExchange(relay.port, `GET / HTTP/1.1\r\nHost: ${hostname}\r\nHost: other.localhost\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 400/);
  });

  it('serves health on the apex domain', async () => {
    const res = await request(relay.port, 'localhost', { path: '/_portway/health' });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body.toString()).tunnels, 1);
  });
});

function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (c) => (answer += c));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}
