/** An origin on ::1 behind the tunnel: both agent paths send the same, bracketed Host header. */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rawExchange } from '../helpers/raw-http';
import { startTunnel, type TunnelFixture } from '../helpers/tunnel-fixture';

/** The Host header and the path each request reached the origin with. */
interface Seen {
  host: string | undefined;
  url: string | undefined;
}

describe('IPv6 origin (::1): Host rewrite on the fast and the full path', () => {
  let fx: TunnelFixture;
  let origin: http.Server;
  let originPort: number;
  let domain: string;
  const seen: Seen[] = [];

  before(async () => {
    origin = http.createServer((req, res) => {
      seen.push({ host: req.headers.host, url: req.url });
      res.end(`host=${req.headers.host}`);
    });
    await new Promise<void>((resolve) => origin.listen(0, '::1', resolve));
    originPort = (origin.address() as AddressInfo).port;
    fx = await startTunnel();
    domain = `v6.${fx.hostname}`;
    await fx.change(['route', 'http', 'add', '--domain', domain, '--destination', '::1', '--http', String(originPort)]);
  });
  after(async () => {
    await fx?.stop();
    await new Promise((resolve) => origin?.close(resolve));
  });

  it('fast path: the relay rewrites Host to [::1]:port', async () => {
    const answer = await rawExchange(fx.relay.port, `GET /fast HTTP/1.1\r\nHost: ${domain}\r\nConnection: close\r\n\r\n`);
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(seen.find((s) => s.url === '/fast'), { host: `[::1]:${originPort}`, url: '/fast' });
  });

  it('full path: the agent rewrites Host to [::1]:port', async () => {
    // A request for the relay's own endpoint hands the connection to the full server; the next one stays there.
    const text = `GET /_portway/health HTTP/1.1\r\nHost: localhost\r\n\r\nGET /full HTTP/1.1\r\nHost: ${domain}\r\nConnection: close\r\n\r\n`;
    const answer = await rawExchange(fx.relay.port, text);
    assert.match(answer.text, new RegExp(`host=\\[::1\\]:${originPort}`), answer.text);
    assert.deepEqual(seen.find((s) => s.url === '/full'), { host: `[::1]:${originPort}`, url: '/full' });
  });
});
