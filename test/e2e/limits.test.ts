import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { getThrough } from '../helpers/relay-health';

describe('relay limits fire with clear answers', () => {
  let fx: HostileFixture;

  before(async () => {
    fx = await startHostileFixture({ relayArgs: ['--max-streams-per-session', '2', '--idle-timeout-ms', '300'] });
  });
  after(async () => fx?.stop());

  it('streams per session: beyond the limit a visitor gets 503 Tunnel busy, and service resumes', async () => {
    // Two large downloads stay open: their visitors stop reading, so the streams stay in flight.
    // From two addresses: one address alone may hold only half of them (--address-share-percent).
    const openOne = (localAddress: string) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        http
          .get(
            { host: '127.0.0.1', port: fx.relay.port, path: '/big?bytes=200000000', headers: { host: fx.canary.hostname }, agent: false, localAddress },
            (res) => {
              res.pause();
              resolve(res);
            },
          )
          .on('error', reject);
      });
    const streams = [await openOne('127.0.0.2'), await openOne('127.0.0.3')];
    const busy = await getThrough(fx.relay.port, fx.canary.hostname, '/');
    assert.equal(busy.status, 503);
    assert.match(busy.body, /Tunnel busy/);
    await Promise.all(streams.map((res) => new Promise((resolve) => res.socket.once('close', resolve).destroy())));
    // The streams are released as the relay notices the visitors left.
    let answer = await getThrough(fx.relay.port, fx.canary.hostname, '/');
    for (let i = 0; i < 100 && answer.status === 503; i++) answer = await getThrough(fx.relay.port, fx.canary.hostname, '/');
    assert.equal(answer.status, 200);
    await fx.healthy();
  });

  it('an idle keep-alive connection is closed after the idle timeout', async () => {
    const socket = net.connect(fx.relay.port, '127.0.0.1');
    const started = Date.now();
    socket.write(`GET / HTTP/1.1\r\nHost: ${fx.canary.hostname}\r\n\r\n`);
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    await new Promise((resolve) => socket.on('close', resolve));
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.ok(Date.now() - started >= 250, 'closed by the idle timeout, not at once');
  });
});
