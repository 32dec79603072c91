// `portway http PORT --inspect ADDR`: every request through the tunnel (the relay's fast path
// included) listed by the local page's JSON API, newest first, and replayed to the origin.
// Real relay and agent processes on loopback.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import type { CapturedRequest } from '../../protocol/inspect';
import { suiteCleanups } from '../helpers/cleanups';
import { request } from '../helpers/http-client';
import { AGENT_BIN, RunningProcess, configureAgent, startRelay } from '../helpers/processes';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

/** An origin answering JSON (gzip'd), an image, a 404, and counting the POSTs it gets. */
async function startApp(): Promise<{ port: number; posts: string[]; close(): Promise<void> }> {
  const posts: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/api/items') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        return void res.end(zlib.gzipSync(JSON.stringify({ items: [1, 2] })));
      }
      if (req.url === '/logo.png') {
        res.writeHead(200, { 'content-type': 'image/png' });
        return void res.end(PNG);
      }
      if (req.url === '/orders' && req.method === 'POST') {
        posts.push(Buffer.concat(chunks).toString());
        res.writeHead(201, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ order: posts.length }));
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not here');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, posts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function api<T>(base: string, path: string, init?: { method: string; body: string; contentType?: string }): Promise<{ status: number; body: T }> {
  const res = await fetch(new URL(path, base), init && { method: init.method, body: init.body, headers: { 'content-type': init.contentType ?? 'application/json' } });
  return { status: res.status, body: (await res.json()) as T };
}

describe('portway http PORT --inspect (real processes on loopback)', () => {
  const { track } = suiteCleanups();

  it('lists each request with status, headers and decoded bodies, and replays one to the origin', async () => {
    const relay = track(await startRelay());
    const app = track(await startApp());
    const { configPath, hostname } = await configureAgent(relay);
    const share = track(
      new RunningProcess(spawn(process.execPath, [AGENT_BIN, '--config', configPath, 'http', String(app.port), '--inspect', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] })),
    );
    const [, base] = await share.waitFor(/Inspector +(http:\/\/127\.0\.0\.1:\d+\/)/);
    await share.waitFor(/Relay applied the routes/);

    // Two requests on one keep-alive connection (the relay's fast path): two rows, not one.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await request(relay.port, hostname, { path: '/api/items', agent, timeoutMs: 10_000 })).status, 200);
    assert.equal((await request(relay.port, hostname, { path: '/logo.png', agent, timeoutMs: 10_000 })).status, 200);
    agent.destroy();
    assert.equal((await request(relay.port, hostname, { path: '/missing', timeoutMs: 10_000 })).status, 404);
    const posted = await request(relay.port, hostname, { method: 'POST', path: '/orders', body: '{"sku":"A1"}', headers: { 'content-type': 'application/json' }, timeoutMs: 10_000 });
    assert.equal(posted.status, 201);

    const { status, body: list } = await api<CapturedRequest[]>(base, '/api/requests');
    assert.equal(status, 200);
    assert.deepEqual(
      list.map((r) => [r.method, r.path, r.status, r.state]),
      [
        ['POST', '/orders', 201, 'complete'],
        ['GET', '/missing', 404, 'complete'],
        ['GET', '/logo.png', 200, 'complete'],
        ['GET', '/api/items', 200, 'complete'],
      ],
    );
    const [order, missing, logo, items] = list;
    assert.equal(items.responseBody.decodedFrom, 'gzip');
    assert.equal(items.responseBody.kind, 'json');
    assert.deepEqual(JSON.parse(items.responseBody.text!), { items: [1, 2] });
    assert.equal(logo.responseBody.kind, 'image');
    assert.equal(Buffer.from(logo.responseBody.base64!, 'base64').toString('hex'), PNG.toString('hex'));
    assert.equal(missing.responseBody.text, 'not here');
    assert.equal(order.requestBody.text, JSON.stringify({ sku: 'A1' }, null, 2));
    assert.equal(order.clientAddress, '127.0.0.1');
    assert.equal(order.route, hostname);
    assert.ok(order.requestHeaders.some((h) => h.toLowerCase() === 'x-forwarded-for'), 'headers as the agent got them');
    assert.ok(order.durationMs! >= 0);

    // Replay as captured, then edited: the origin gets both, the new responses come back.
    const replayed = await api<CapturedRequest>(base, `/api/requests/${order.id}/replay`, { method: 'POST', body: '{}' });
    assert.equal(replayed.status, 200);
    assert.equal(replayed.body.replayOf, order.id);
    assert.equal(replayed.body.status, 201);
    assert.deepEqual(JSON.parse(replayed.body.responseBody.text!), { order: 2 });
    const edited = await api<CapturedRequest>(base, `/api/requests/${order.id}/replay`, { method: 'POST', body: JSON.stringify({ body: '{"sku":"B2"}' }) });
    assert.deepEqual(JSON.parse(edited.body.responseBody.text!), { order: 3 });
    assert.deepEqual(app.posts, ['{"sku":"A1"}', '{"sku":"A1"}', '{"sku":"B2"}']);
    assert.equal((await api<CapturedRequest[]>(base, '/api/requests')).body[0].id, edited.body.id, 'replays are listed too');

    // Bad input: a clear error, nothing replayed.
    const bad = await api<{ error: string }>(base, `/api/requests/${order.id}/replay`, { method: 'POST', body: '{"method":"GE T"}' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /method must be letters/);
    const form = await api<{ error: string }>(base, `/api/requests/${order.id}/replay`, { method: 'POST', body: 'a=1', contentType: 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    assert.equal((await api<{ error: string }>(base, '/api/requests/99999/replay', { method: 'POST', body: '{}' })).status, 404);
    assert.equal(app.posts.length, 3);

    // The page itself: a strict CSP, nothing remote.
    const page = await fetch(base);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /https?:|\*/);
    assert.match(await page.text(), /Portway inspector/);
  });

  it('answers only to its own address in Host (no DNS rebinding)', async () => {
    const relay = track(await startRelay());
    const app = track(await startApp());
    const { configPath } = await configureAgent(relay);
    const share = track(
      new RunningProcess(spawn(process.execPath, [AGENT_BIN, '--config', configPath, 'http', String(app.port), '--inspect=127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] })),
    );
    const [, base] = await share.waitFor(/Inspector +(http:\/\/127\.0\.0\.1:\d+\/)/);
    const port = Number(new URL(base).port);
    const foreign = await request(port, 'evil.example.com', { path: '/api/requests', timeoutMs: 10_000 });
    assert.equal(foreign.status, 421);
  });
});
