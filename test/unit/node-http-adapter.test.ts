import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { normalizeHost } from '../../common/http-headers';
import { adaptNodeExchange } from '../../agent/src/serve/node-http-adapter';

describe('node-http-adapter', () => {
  it('normalizes the Host header the way routes are keyed', () => {
    assert.equal(normalizeHost('Site.Test.:8080'), 'site.test');
    assert.equal(normalizeHost('[::1]:80'), '[::1]');
    assert.equal(normalizeHost(undefined), '');
  });

  it('exposes method, url, headers, host, proto and peer; writes raw headers in order', async () => {
    let seen: unknown;
    const echo = http.createServer((req, res) => {
      const { request: r, response } = adaptNodeExchange(req, res, { proto: 'https' });
      seen = { method: r.method, url: r.url, host: r.host, proto: r.proto, addr: r.remoteAddress, x: r.headers['x-two'] };
      response.writeHead(201, ['X-A', '1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'], 'Made');
      response.body.end('ok');
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const reply = await new Promise<{ status: number; message: string; raw: string[] }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: (echo.address() as AddressInfo).port, path: '/p?q=1', method: 'PUT', agent: false,
            headers: [['Host', 'Site.Test.:9'], ['X-Two', 'a'], ['x-two', 'b']].flat() as unknown as http.OutgoingHttpHeaders },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, message: res.statusMessage ?? '', raw: res.rawHeaders }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.deepEqual(seen, { method: 'PUT', url: '/p?q=1', host: 'site.test', proto: 'https', addr: '127.0.0.1', x: 'a, b' });
      assert.equal(reply.status, 201);
      assert.equal(reply.message, 'Made');
      assert.deepEqual(reply.raw.slice(0, 6), ['X-A', '1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
    } finally {
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });
});
