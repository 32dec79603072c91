/**
 * The request inspector as the extension drives it: a real relay, a real `portway rpc` agent on
 * stdio, the origin's echo page on loopback. Requests appear in inspect/didChange (one row per
 * request, keep-alive or not), inspect/get shows a body pretty-printed, inspect/replay sends an
 * edited request to the origin, and the history survives a Stop/Start of the tunnel.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import { after, before, test } from 'node:test';
import {
  InspectConfigureRequest,
  InspectDidChangeNotification,
  InspectGetRequest,
  InspectListRequest,
  InspectReplayRequest,
  RpcErrorCode,
  TunnelStartRequest,
  TunnelStopRequest,
  ConnectionDidBlockNotification,
  FirewallAddRequest,
  FirewallRemoveRequest,
  LogDidWriteNotification,
} from '../../protocol/rpc';
import { request } from '../helpers/http-client';
import type { TestOrigin } from '../helpers/origin';
import type { RelayProcess } from '../helpers/processes';
import { startSharingRpcAgent, type RpcAgent } from '../helpers/rpc-agent';

let relay: RelayProcess;
let origin: TestOrigin;
let agent: RpcAgent;
let hostname: string;

const TIMEOUT = { timeout: 60_000 };

before(async () => {
  ({ relay, origin, agent, hostname } = await startSharingRpcAgent('inspect-rpc', (c) => c.sendRequest(InspectConfigureRequest.type, { enabled: true, maxRequests: 50, maxMemoryMiB: 4 })));
}, TIMEOUT);

after(async () => {
  await agent?.stop();
  await relay?.stop();
  await origin?.close();
}, TIMEOUT);

/** The first inspect/didChange row for `path` in state complete. */
function completed(pathname: string, from = 0) {
  return agent.waitForNotification<InspectDidChangeNotification.Params>(
    InspectDidChangeNotification.type,
    (p) => p.requests.some((r) => r.path === pathname && r.state === 'complete'),
    { from },
  ).then((p) => p.requests.find((r) => r.path === pathname && r.state === 'complete')!);
}

test('each request on a keep-alive connection is its own row, with a pretty-printed JSON body, and replays edited', TIMEOUT, async () => {
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = completed('/echo-headers?n=1');
    const second = completed('/echo-headers?n=2');
    assert.equal((await request(relay.port, hostname, { path: '/echo-headers?n=1', agent: keepAlive, timeoutMs: 10_000 })).status, 200);
    assert.equal((await request(relay.port, hostname, { path: '/echo-headers?n=2', agent: keepAlive, timeoutMs: 10_000 })).status, 200);
    const [one, two] = await Promise.all([first, second]);
    assert.notEqual(one.id, two.id);
    assert.equal(one.status, 200);
    assert.equal(one.method, 'GET');
    assert.equal(one.route, hostname);
    assert.ok(one.bytesOut > 0 && one.durationMs !== undefined, JSON.stringify(one));

    const listed = await agent.connection.sendRequest(InspectListRequest.type);
    assert.deepEqual(listed.slice(0, 2).map((r) => r.id), [two.id, one.id], 'newest first');
    assert.equal('responseBody' in listed[0], false, 'the list carries no bodies');

    const detail = await agent.connection.sendRequest(InspectGetRequest.type, { id: one.id });
    assert.equal(detail.responseBody.kind, 'json');
    assert.match(detail.responseBody.text ?? '', /\n  "method": "GET"/, 'pretty-printed');

    const replay = await agent.connection.sendRequest(InspectReplayRequest.type, { id: one.id, edit: { method: 'POST', path: '/echo-headers?replayed=1', body: '{"a":1}' } });
    assert.equal(replay.replayOf, one.id);
    assert.equal(replay.status, 200);
    const echoed = JSON.parse(replay.responseBody.text ?? '{}') as { method: string; url: string };
    assert.deepEqual([echoed.method, echoed.url], ['POST', '/echo-headers?replayed=1'], 'the origin got the edited request');

    const gone = await agent.connection.sendRequest(InspectGetRequest.type, { id: 999_999 }).then(
      () => assert.fail('expected NotFound'),
      (err: { code: number; message: string }) => err,
    );
    assert.equal(gone.code, RpcErrorCode.NotFound);
  } finally {
    keepAlive.destroy();
  }
});

test('the history survives stopping and starting the tunnel', TIMEOUT, async () => {
  const before = completed('/kept');
  assert.equal((await request(relay.port, hostname, { path: '/kept', timeoutMs: 10_000 })).status, 200);
  const kept = await before;
  await agent.connection.sendRequest(TunnelStopRequest.type);
  assert.equal((await agent.connection.sendRequest(TunnelStartRequest.type, { waitForOnline: true })).state, 'online');
  const from = agent.notifications.length;
  const after = completed('/after-restart', from);
  assert.equal((await request(relay.port, hostname, { path: '/after-restart', timeoutMs: 10_000 })).status, 200);
  const next = await after;
  assert.ok(next.id > kept.id);
  const ids = (await agent.connection.sendRequest(InspectListRequest.type)).map((r) => r.id);
  assert.ok(ids.includes(kept.id) && ids.includes(next.id), `both kept: ${ids.join(',')}`);
});

/** The status a visitor from `localAddress` (a loopback address) gets for /blocked. */
function statusFrom(localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: relay.port, path: '/blocked', localAddress, headers: { host: hostname }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
  });
}

test('a visitor the firewall drops is reported as blocked, counted per address', TIMEOUT, async () => {
  const route = { kind: 'http' as const, domain: hostname };
  // Another loopback address, so the rule touches no other request of this file.
  const rule = { action: 'drop' as const, network: '127.0.0.2' };
  const from = agent.notifications.length;
  await agent.connection.sendRequest(FirewallAddRequest.type, { route, rule });
  try {
    await agent.waitForNotification<LogDidWriteNotification.Params>(LogDidWriteNotification.type, (e) => /relay applied the routes/.test(e.message), { from });
    for (let i = 0; i < 2; i++) assert.equal(await statusFrom('127.0.0.2'), 403, 'the firewall refused the visitor');
    assert.equal(await statusFrom('127.0.0.1'), 200, 'others still get in');
    const seen = new Map<string, number>();
    await agent.waitForNotification<ConnectionDidBlockNotification.Params>(
      ConnectionDidBlockNotification.type,
      (p) => {
        for (const v of p.visitors) {
          assert.deepEqual(v.route, route);
          seen.set(v.clientAddress, (seen.get(v.clientAddress) ?? 0) + v.count);
        }
        assert.equal(seen.has('127.0.0.1'), false, 'an admitted visitor is not reported');
        return (seen.get('127.0.0.2') ?? 0) >= 2;
      },
      { from },
    );
  } finally {
    await agent.connection.sendRequest(FirewallRemoveRequest.type, { route, rule });
  }
});
