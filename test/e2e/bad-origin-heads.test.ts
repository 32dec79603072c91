/**
 * An origin whose response head two readers could frame differently (a proxy in front of the
 * relay, nginx with upstream keepalive, might split it another way: a response desync) is not
 * passed on: the visitor gets a 502 naming why, the relay logs it, the origin's connection is
 * dropped, and the tunnel goes on serving. A raw TCP origin on loopback sends each bad head
 * (Node's own server would never write them), behind a real relay and agent.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { rawExchange } from '../helpers/raw-http';

/** Each bad head, as the origin writes it (with a body after it), and the reason the relay gives. */
const BAD_HEADS: Record<string, { bytes: string; reason: string }> = {
  'bare-lf': { bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 4\nX-Smuggled: y\r\n\r\nbody', reason: 'bare CR or LF in the response head' },
  'bare-cr': { bytes: 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 4\r\n\r\nbody', reason: 'bare CR or LF in the response head' },
  control: { bytes: 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 4\r\n\r\nbody', reason: 'control character in a response header value' },
  'obs-fold': { bytes: 'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 4\r\n\r\nbody', reason: 'obsolete line folding in the response head' },
  'space-before-colon': { bytes: 'HTTP/1.1 200 OK\r\nContent-Length : 4\r\n\r\nbody', reason: 'whitespace before the colon of a response header' },
  'cl-and-te': { bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n', reason: 'both Content-Length and Transfer-Encoding' },
  // Only bare LFs, the connection left open: refused at once, not after waiting for a CRLFCRLF.
  'lf-only': { bytes: 'HTTP/1.1 200 OK\nContent-Length: 4\n\nbody', reason: 'malformed status line' },
  'status-line': { bytes: 'HTTP/1.1 20 OK\r\nContent-Length: 4\r\n\r\nbody', reason: 'malformed status line' },
};
const GOOD = 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsound ok';

interface RawOrigin {
  port: number;
  /** Resolves when the origin connection that answered `/bad/<name>` is closed (by the agent). */
  closedAfter(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Reads request heads (no bodies are sent here) and answers each by its path. */
async function startRawOrigin(): Promise<RawOrigin> {
  const closed = new Map<string, Promise<void>>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const path = pending.slice(0, pending.indexOf('\r\n')).split(' ')[1] ?? '';
        pending = pending.slice(end + 4);
        const name = path.startsWith('/bad/') ? path.slice(5) : undefined;
        if (name !== undefined && BAD_HEADS[name]) {
          closed.set(name, gone);
          socket.write(BAD_HEADS[name].bytes); // and stays open: the relay must be the one to drop it
        } else socket.write(GOOD);
      }
    });
  });
  server.on('connection', (socket) => socket.once('close', () => sockets.delete(socket)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    closedAfter: (name) => closed.get(name) ?? Promise.reject(new Error(`the origin never answered /bad/${name}`)),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a malformed response head from the origin: 502 to the visitor, the tunnel serves on (real relay and agent on loopback)', () => {
  let origin: RawOrigin;
  let relay: RelayProcess;
  let agent: RunningProcess | undefined;
  let hostname: string;

  before(async () => {
    origin = await startRawOrigin();
    relay = await startRelay();
    const configured = await configureAgent(relay);
    hostname = configured.hostname;
    const added = await portway(configured.configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    assert.equal(added.code, 0, added.stderr);
    agent = startAgent(configured.configPath);
    await agent.waitFor(/Relay applied the routes/);
  });
  after(async () => {
    await agent?.stop();
    await relay?.stop();
    await origin?.close();
  });

  const get = (path: string, close = false) => `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

  it('serves a sound response (the origin and tunnel work)', async () => {
    const answer = await rawExchange(relay.port, get('/ok', true));
    assert.equal(answer.status, 200, answer.text.slice(0, 200));
    assert.ok(answer.text.endsWith('sound ok'));
  });

  for (const [name, { reason }] of Object.entries(BAD_HEADS)) {
    it(`answers 502 to ${name}, closes both connections, and serves the next request`, async () => {
      const from = relay.lines.length;
      // No Connection: close: the relay itself must end the visitor's connection.
      const answer = await rawExchange(relay.port, get(`/bad/${name}`));
      assert.equal(answer.status, 502, answer.text.slice(0, 300));
      assert.ok(answer.text.includes(reason), `the page names why: ${answer.text.slice(0, 600)}`);
      assert.ok(!/HTTP\/1\.1 20|X-Smuggled|X-A:/.test(answer.text), 'nothing of the bad response reached the visitor');
      await relay.waitFor(new RegExp(`refused a response from the origin behind ${hostname.replace(/\./g, '\\.')}: ${reason}`), 10_000, from);
      await origin.closedAfter(name);
      const next = await rawExchange(relay.port, get('/ok', true));
      assert.equal(next.status, 200, `after ${name}: ${next.text.slice(0, 200)}`);
      assert.ok(next.text.endsWith('sound ok'));
    });
  }
});
