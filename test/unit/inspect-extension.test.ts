// The extension's side of the request inspector, without VS Code: the store both the webview and
// the Connections view read, the Connections rows, copy as curl, and the CSPs of the inspector
// and QR code webviews.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { ShownBody } from '../../protocol/inspect';
import type { CapturedRequest, RequestSummary } from '../../protocol/rpc';
import { curlCommand } from '../../extension/src/inspector/curl';
import { inspectorCsp, inspectorHtml } from '../../extension/src/inspector/inspector-html';
import { RequestsStore } from '../../extension/src/inspector/requests-store';
import { qrHtml } from '../../extension/src/qr/qr-html';
import { describeRequest } from '../../extension/src/views/request-rows';
import { ConnectionsModel, describeBlocked } from '../../extension/src/views/connections-model';

const summary = (id: number, over: Partial<RequestSummary> = {}): RequestSummary => ({
  id,
  route: 'app.relay.test',
  method: 'GET',
  path: `/r/${id}`,
  host: 'app.relay.test',
  proto: 'https',
  clientAddress: '203.0.113.9',
  startedAt: 1_000 + id,
  state: 'complete',
  status: 200,
  durationMs: 12.5,
  requestHeaders: [],
  responseHeaders: [],
  bytesIn: 0,
  bytesOut: 2048,
  requestBodyTruncated: false,
  ...over,
});

test('requests store: newest first, bounded, updated in place, kept stale across an agent restart', () => {
  const store = new RequestsStore(3);
  const events: [number, boolean][] = [];
  store.onDidChange((changed, all) => events.push([changed.length, all]));
  store.newAgentRun();
  store.upsert([summary(1, { state: 'pending', status: undefined }), summary(2), summary(3)]);
  const first = store.get('1:1');
  store.upsert([summary(1)]);
  assert.equal(store.get('1:1'), first, 'updated in place');
  assert.equal(first?.status, 200);
  store.upsert([summary(4, { state: 'streaming' })]);
  assert.deepEqual(store.list().map((r) => r.key), ['1:4', '1:3', '1:2'], 'the oldest left at the bound of 3');
  assert.equal(store.agentId('1:4'), 4);

  store.newAgentRun();
  assert.equal(store.size, 3, 'history kept across the restart');
  assert.equal(store.agentId('1:4'), undefined, 'a stale row has no agent id any more');
  assert.deepEqual([store.get('1:4')?.state, store.get('1:4')?.error], ['reset', 'the agent restarted'], 'an exchange cut by the restart does not stay pending');
  store.upsert([summary(1)]);
  assert.deepEqual(store.list().map((r) => r.key), ['1:4', '1:3', '2:1'].sort((a, b) => (store.get(b)!.startedAt - store.get(a)!.startedAt)), 'the new run\'s id 1 does not clash');
  assert.ok(events.some(([, all]) => all) && events.some(([n, all]) => !all && n === 1));
  store.setLimit(1);
  assert.equal(store.size, 1);
});

test('Connections rows: method and path first, status and size in the description, a 502 and a reset say what happened', () => {
  const ok = describeRequest({ ...summary(1, { path: '/api/items?page=2' }), key: '1:1' });
  assert.equal(ok.label, 'GET /api/items?page=2');
  assert.match(ok.description ?? '', /^200 · 13 ms · 2\.0 KB · \d\d:\d\d:\d\d$/);
  assert.equal(ok.icon, 'pass');
  assert.match(ok.tooltip, /Route app\.relay\.test/);
  assert.match(ok.tooltip, /Client 203\.0\.113\.9/);
  const bad = describeRequest({ ...summary(2, { status: 502 }), key: '1:2' });
  assert.equal(bad.icon, 'error');
  assert.match(bad.tooltip, /bad gateway: the origin did not answer/);
  const reset = describeRequest({ ...summary(3, { status: 200, state: 'reset', error: 'connection reset' }), key: '1:3' });
  assert.match(reset.description ?? '', /^200 reset/);
  assert.equal(reset.icon, 'debug-disconnect');
  assert.match(reset.tooltip, /reset: connection reset/);
});

const body = (over: Partial<ShownBody>): ShownBody => ({ size: 0, truncated: false, kind: 'empty', ...over });

test('copy as curl: method, URL the visitor used, headers quoted, compact JSON body; hop headers left out', () => {
  const r: CapturedRequest = {
    ...summary(7, { method: 'POST', path: "/orders?q=it's" }),
    requestHeaders: ['Host', 'app.relay.test', 'Content-Type', 'application/json', 'X-Forwarded-For', '203.0.113.9', 'Content-Length', '12', 'X-Note', "it's"],
    requestBody: body({ size: 12, kind: 'json', text: '{\n  "sku": "A1"\n}' }),
    responseBody: body({}),
  };
  assert.equal(
    curlCommand(r, 'https://app.relay.test/'),
    `curl -X POST 'https://app.relay.test/orders?q=it'\\''s' -H 'Content-Type: application/json' -H 'X-Note: it'\\''s' --data-binary '{"sku":"A1"}'`,
  );
  const cut = curlCommand({ ...r, requestBody: body({ size: 100_000, kind: 'text', text: 'x', truncated: true }) });
  assert.match(cut, /^curl -X POST 'https:\/\/app\.relay\.test\/orders/);
  assert.match(cut, /# body left out: cut at the preview size$/);
});

test('the inspector webview CSP loads nothing remote and runs only its own nonce\'d script', () => {
  const parts = { cspSource: 'https://file+.vscode-resource.vscode-cdn.net', nonce: 'abc123', scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/inspector-view.js', styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/inspector.css' };
  const csp = inspectorCsp(parts);
  const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  assert.deepEqual(directives.get('default-src'), ["'none'"]);
  assert.deepEqual(directives.get('script-src'), ["'nonce-abc123'"]);
  assert.deepEqual(directives.get('connect-src'), ["'none'"]);
  for (const [name, sources] of directives) {
    for (const s of sources) assert.ok(["'none'", "'nonce-abc123'", 'data:', parts.cspSource].includes(s), `${name} allows only local sources, not ${s}`);
  }
  const html = inspectorHtml(parts);
  assert.ok(html.includes(`content="${csp}"`));
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.ok(html.includes(`<script nonce="abc123" src="${parts.scriptUri}">`));
});

test('the QR code page draws the URL as inline SVG under a CSP with no scripts or remote loads', async () => {
  const html = await qrHtml('https://deep-leaf-88672.relay.test/?a=1&b=<2>', 'n0nce');
  assert.match(html, /<svg[^>]*viewBox/);
  assert.match(html, /default-src 'none'; style-src 'nonce-n0nce'; img-src 'none'; script-src 'none'/);
  assert.ok(html.includes('https://deep-leaf-88672.relay.test/?a=1&#38;b=&#60;2&#62;'), 'the URL is shown, escaped');
  const others = html.replace(/https:\/\/deep-leaf-88672\.relay\.test[^"<\s]*/g, '').replace('xmlns="http://www.w3.org/2000/svg"', '');
  assert.doesNotMatch(others, /https?:\/\//, 'nothing else that could be loaded');
});

test('Connections: blocked visitors are totalled per route and address, newest first, bounded', () => {
  const model = new ConnectionsModel(2);
  const route = { kind: 'http' as const, domain: 'app.relay.test' };
  model.blocked([{ route, clientAddress: '203.0.113.9', count: 2, lastAt: 10 }]);
  model.blocked([{ route: { kind: 'tcp', port: 22001 }, clientAddress: '203.0.113.9', count: 1, lastAt: 11 }]);
  model.blocked([{ route, clientAddress: '203.0.113.9', count: 3, lastAt: 12 }]);
  assert.deepEqual(model.blockedEntries().map((b) => [b.clientAddress, b.count, b.firstAt]), [['203.0.113.9', 5, 10], ['203.0.113.9', 1, 11]]);
  const row = describeBlocked(model.blockedEntries()[0]);
  assert.equal(row.label, 'Blocked 203.0.113.9');
  assert.match(row.description, /^app\.relay\.test · 5× · /);
  assert.equal(row.icon, 'circle-slash');
  model.blocked([{ route, clientAddress: '198.51.100.1', count: 1, lastAt: 13 }]);
  assert.equal(model.blockedEntries().length, 2, 'bounded');
  model.reset();
  assert.equal(model.blockedEntries().length, 2, 'kept across an agent restart');
});
