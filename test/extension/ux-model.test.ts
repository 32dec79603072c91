/** Issue 15's decisions that need no editor: resume after a reload, inputs, tree state, status text. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { destinationFor, parseDestination, portItems, typedPort, validateDestination, validateNetwork } from '../../extension/src/commands/inputs';
import { domainOf, routeReplacedBy, suggestSubdomain } from '../../extension/src/commands/subdomain-choice';
import { shouldRun, type ResumeInputs } from '../../extension/src/resume-policy';
import { RpcErrorCode, type HttpRoute, type ListeningPort, type RouteList } from '../../protocol/rpc';
import { NewPortTracker, shareablePorts } from '../../extension/src/port-watch-model';
import { shortReason, statusView } from '../../extension/src/views/status-model';
import type { RouteStateContext } from '../../extension/src/views/route-state';
import { describeNode, describeRouteRow, rootNodes } from '../../extension/src/views/routes-model';

test('resume: autoStart resumes configured routes on the first start, but never after an explicit stop', () => {
  const fresh: ResumeInputs = { wantRunning: false, firstStart: true, autoStart: true, hasRoutes: true, configured: true, stoppedByUser: false };
  assert.equal(shouldRun(fresh), true);
  assert.equal(shouldRun({ ...fresh, stoppedByUser: true }), false, 'Stop Sharing survives the reload');
  assert.equal(shouldRun({ ...fresh, autoStart: false }), false);
  assert.equal(shouldRun({ ...fresh, hasRoutes: false }), false);
  assert.equal(shouldRun({ ...fresh, firstStart: false }), false, 'an agent restart only resumes what the user started');
  assert.equal(shouldRun({ ...fresh, firstStart: false, wantRunning: true }), true);
  assert.equal(shouldRun({ ...fresh, stoppedByUser: true, wantRunning: true }), true, 'started again in this window');
});

test('share picker: a port bound to one specific address is shared at that address; loopbacks and wildcards are found by the agent', () => {
  assert.equal(destinationFor(['::1']), undefined, 'the agent probes 127.0.0.1 and ::1');
  assert.equal(destinationFor(['127.0.0.1', '::1']), undefined);
  assert.equal(destinationFor(['0.0.0.0']), undefined);
  assert.equal(destinationFor(['127.0.0.2']), '127.0.0.2');
  const [item] = portItems([{ port: 3458, address: '127.0.0.2', family: 4, pid: 7, process: 'node' }]);
  assert.equal(item.destination, '127.0.0.2');
  assert.equal(item.description, 'node (pid 7) · 127.0.0.2');
});

test('share: the subdomain box offers the hostname while free, else a free name; a taken answer is the route it would replace', () => {
  const host = 'a.relay.test';
  const route = (domain: string): HttpRoute => ({ domain, url: `http://${domain}/`, kind: 'proxy', destination: '127.0.0.1', httpPort: 3000, firewall: [] });
  assert.equal(suggestSubdomain([], host, { port: 3000 }), '');
  assert.equal(suggestSubdomain([route(host)], host, { port: 8080 }), 'port-8080');
  assert.equal(suggestSubdomain([route(host), route(`port-8080.${host}`)], host, { port: 8080 }), 'port-8080-2');
  assert.equal(suggestSubdomain([route(host)], host, { folder: '/home/me/My Site!' }), 'my-site');
  assert.equal(suggestSubdomain([route(host)], host, { folder: '/' }), 'app');
  assert.equal(routeReplacedBy([route(host)], host, '')?.domain, host, 'the second default share would replace the first');
  assert.equal(routeReplacedBy([route(host)], host, 'other'), undefined);
  assert.equal(domainOf(' App ', host), `app.${host}`);
});

test('share picker: a typed number that is no port is an inline error, never another row (70000 used to open the folder dialog)', () => {
  assert.deepEqual(typedPort('3000'), { port: 3000 });
  assert.deepEqual(typedPort(':8080'), { port: 8080 });
  assert.match((typedPort('70000') as { error: string }).error, /70000 is not a port: enter a number from 1 to 65535/);
  assert.ok('error' in (typedPort('0') ?? {}));
  assert.equal(typedPort('node'), undefined, 'text only filters the list');
});

test('firewall box: checked inline with the agent\'s own parser, the host-bits suggestion included', () => {
  for (const bad of ['abc', '10.0.0.0/99', '127.0.0.300', '10.0.0.1/8']) assert.ok(validateNetwork(bad), `${bad} is refused inline`);
  assert.match(validateNetwork('10.0.0.1/8')!, /has host bits set; did you mean 10\.0\.0\.0\/8\?/);
  assert.match(validateNetwork('10.0.0.0/99')!, /not a prefix length/);
  for (const good of ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32', '::1']) assert.equal(validateNetwork(good), undefined, good);
});

test('routes tree: each route says whether it works now; no chevron without rules; an unforwarded TCP port offers Forward…', () => {
  const list: RouteList = {
    http: [{ domain: 'a.relay.test', url: 'http://a.relay.test/', kind: 'proxy', destination: '127.0.0.1', httpPort: 3000, firewall: [] }],
    tcp: [{ port: 22001, address: 'a.relay.test:22001', firewall: [{ action: 'drop', network: '10.0.0.7' }] }],
  };
  const [web, tcp] = rootNodes(list);
  const look = (ctx: RouteStateContext) => describeRouteRow(web, ctx);
  assert.match(look({ tunnel: 'online', agentDown: false, listening: new Set([3000]) }).description!, /^online → 127\.0\.0\.1:3000$/);
  assert.match(look({ tunnel: 'online', agentDown: false, listening: new Set([22]) }).description!, /^nothing listening on :3000 /);
  assert.match(look({ tunnel: 'stopped', agentDown: false }).description!, /^stopped /);
  assert.match(look({ tunnel: 'offline', agentDown: false }).description!, /^relay down /);
  assert.match(look({ tunnel: 'online', agentDown: true }).description!, /^agent stopped /);
  const icons = new Set((['online', 'stopped', 'offline'] as const).map((tunnel) => look({ tunnel, agentDown: false }).icon));
  assert.equal(icons.size, 3, 'online, stopped and relay down look different');
  assert.equal(describeNode(web).collapsible, 'none', 'no rules: no chevron');
  assert.equal(describeNode(tcp).collapsible, 'expanded');
  assert.equal(describeNode(tcp).contextValue, 'tcpPortUnforwarded');
});

test('edit destination: a port, address:port or [v6]:port; anything else is said inline', () => {
  assert.deepEqual(parseDestination('3000'), { port: 3000 });
  assert.deepEqual(parseDestination('127.0.0.2:3000'), { destination: '127.0.0.2', port: 3000 });
  assert.deepEqual(parseDestination('[::1]:8080'), { destination: '::1', port: 8080 });
  assert.equal(parseDestination('host:70000'), undefined);
  assert.ok(validateDestination('abc'));
  assert.equal(validateDestination('localhost:22'), undefined);
});

test('manifest: Ctrl+C, Delete, F2 and Enter on a focused Routes row, as in the Ports view', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  const keys = Object.fromEntries((manifest.contributes.keybindings as { key: string; command: string; when: string }[]).map((k) => [k.key, k]));
  assert.equal(keys['ctrl+c'].command, 'portway.copyUrl');
  assert.equal(keys['delete'].command, 'portway.removeRoute');
  assert.equal(keys['f2'].command, 'portway.editRoute');
  assert.equal(keys['enter'].command, 'portway.openUrl');
  for (const k of Object.values(keys)) assert.match(k.when, /focusedView == portway\.routes/);
});

test('status bar offline: a short reason, the full one and the next retry time in the tooltip', () => {
  const at = new Date(2026, 0, 1, 14, 5, 9).getTime();
  const view = statusView({ state: 'offline', configured: true, reason: 'cannot reach relay https://relay.test: connect ECONNREFUSED 127.0.0.1:443', nextAttemptAt: at });
  assert.equal(view.text, '$(warning) Portway offline: relay unreachable');
  assert.match(view.tooltip, /retrying at 14:05:09/);
  assert.match(view.tooltip, /Retry Now/);
  assert.equal(shortReason({ state: 'offline', configured: true, reason: 'bad token', errorCode: RpcErrorCode.Unauthorized }), 'token refused');
  assert.ok(shortReason({ state: 'offline', configured: true, reason: 'x'.repeat(200) }).length <= 28);
});

test('noticing ports: own ports hidden (agent, editor, local relay); a new port is offered once, never on the first look', () => {
  const ports: ListeningPort[] = [
    { port: 3000, address: '127.0.0.1', family: 4, pid: 10 },
    { port: 8080, address: '0.0.0.0', family: 4, pid: 11 },
    { port: 43615, address: '127.0.0.1', family: 4, pid: 12 },
  ];
  assert.deepEqual(shareablePorts(ports, { pids: new Set([11]), relayUrl: 'http://127.0.0.1:43615' }).map((p) => p.port), [3000]);
  assert.deepEqual(shareablePorts(ports, { pids: new Set(), relayUrl: 'https://relay.example.com' }).length, 3, 'a remote relay hides nothing');
  const tracker = new NewPortTracker();
  const none: RouteList = { http: [], tcp: [] };
  const workspace = ['/home/dev/app'];
  assert.deepEqual(tracker.fresh(ports, none, workspace), [], 'what already listened is not news');
  const more = [
    ...ports,
    { port: 5173, address: '::1', family: 6 as const, cwd: '/home/dev/app/web' },
    { port: 9000, address: '127.0.0.1', family: 4 as const, cwd: '/home/dev/app' },
    { port: 9100, address: '127.0.0.1', family: 4 as const, cwd: '/home/dev/app-other' },
    { port: 9200, address: '127.0.0.1', family: 4 as const },
  ];
  const shared: RouteList = { http: [{ domain: 'a.test', url: 'http://a.test/', kind: 'proxy', httpPort: 9000, firewall: [] }], tcp: [] };
  assert.deepEqual(tracker.fresh(more, shared, workspace), [5173], 'new, in the workspace, and not shared already (not a sibling folder, not an unknown process)');
  assert.deepEqual(tracker.fresh(more, none, workspace), [], 'offered once');
});
