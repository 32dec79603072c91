/** The extension's pieces that need no editor: restart budget, tree models, status text, inputs. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { RestartBudget } from '../../extension/src/agent/restart-budget';
import { parsePort, portItems, validateNetwork, validateRelayUrl, validateSubdomain } from '../../extension/src/commands/inputs';
import { ConnectionsModel, describeConnection, formatBytes } from '../../extension/src/views/connections-model';
import { childNodes, describeNode, rootNodes } from '../../extension/src/views/routes-model';
import { statusView } from '../../extension/src/views/status-model';
import type { ConnectionInfo, RouteList } from '../../protocol/rpc';

test('restart budget: 5 crashes within 3 minutes exhaust it; older crashes age out', () => {
  let now = 0;
  const budget = new RestartBudget(5, 180_000, () => now);
  for (let i = 0; i < 4; i++) {
    now += 1000;
    assert.equal(budget.recordCrash(), true, `crash ${i + 1} is restarted`);
  }
  now += 1000;
  assert.equal(budget.recordCrash(), false, 'the 5th crash within 3 minutes is not');
  assert.equal(budget.recent, 5);
  now += 180_000; // all of those are now older than the window
  assert.equal(budget.recent, 0);
  assert.equal(budget.recordCrash(), true);
  budget.reset();
  assert.equal(budget.recent, 0);
});

const routes: RouteList = {
  http: [
    { domain: 'blog.a.relay.test', url: 'https://blog.a.relay.test/', kind: 'webroot', webroot: '/srv/blog', firewall: [] },
    {
      domain: 'a.relay.test',
      url: 'https://a.relay.test/',
      kind: 'proxy',
      destination: '127.0.0.1',
      httpPort: 3000,
      firewall: [
        { action: 'allow', network: '10.0.0.0/8' },
        { action: 'drop', network: '10.0.0.7' },
      ],
    },
  ],
  tcp: [
    { port: 22002, address: 'a.relay.test:22002', firewall: [] },
    { port: 22001, address: 'a.relay.test:22001', destination: '127.0.0.1', destinationPort: 22, firewall: [{ action: 'drop', network: '::1' }] },
  ],
};

test('routes tree: HTTP routes (apex first) then TCP ports by number, each with its rules as children', () => {
  const roots = rootNodes(routes);
  assert.deepEqual(
    roots.map((n) => describeNode(n).label),
    ['a.relay.test', 'blog.a.relay.test', 'TCP a.relay.test:22001', 'TCP a.relay.test:22002'],
  );
  assert.deepEqual(
    roots.map((n) => describeNode(n).description),
    ['→ 127.0.0.1:3000', '→ folder /srv/blog', '→ 127.0.0.1:22', '→ not forwarded'],
  );
  assert.deepEqual(roots.map((n) => describeNode(n).contextValue), ['httpRoute', 'httpRoute', 'tcpPort', 'tcpPort']);
  const rules = childNodes(roots[0]);
  assert.deepEqual(rules.map((n) => describeNode(n).label), ['allow 10.0.0.0/8', 'drop 10.0.0.7']);
  assert.deepEqual(rules.map((n) => describeNode(n).contextValue), ['firewallRule', 'firewallRule']);
  assert.ok(rules.every((n) => n.kind === 'rule' && n.parent.kind === 'http' && n.parent.domain === 'a.relay.test'));
  assert.deepEqual(childNodes(rules[0]), []);
  const tcpRule = childNodes(roots[2])[0];
  assert.ok(tcpRule.kind === 'rule' && tcpRule.parent.kind === 'tcp' && tcpRule.parent.port === 22001);
  assert.match(describeNode(roots[0]).tooltip, /only 1 allowed network/);
  assert.equal(new Set([...roots, ...roots.flatMap(childNodes)].map((n) => n.id)).size, 7, 'ids are unique');
});

test('routes tree: a route the relay refused says so in its description, tooltip and icon', () => {
  const refused: RouteList = {
    http: [{ domain: 'other.example.com', url: 'https://other.example.com/', kind: 'proxy', destination: '127.0.0.1', httpPort: 3000, firewall: [], rejected: 'this agent may not use that domain' }],
    tcp: [{ port: 22001, address: 'a.relay.test:22001', firewall: [], rejected: 'this agent has not allocated that port' }],
  };
  const views = rootNodes(refused).map(describeNode);
  assert.deepEqual(views.map((v) => v.description), ['refused by the relay → 127.0.0.1:3000', 'refused by the relay → not forwarded']);
  assert.deepEqual(views.map((v) => v.icon), ['error', 'error']);
  assert.match(views[0].tooltip, /^The relay refused this route: this agent may not use that domain\n/);
  assert.match(views[1].tooltip, /has not allocated that port/);
  assert.deepEqual(views.map((v) => v.contextValue), ['httpRoute', 'tcpPort'], 'still removable from its menu');
});

const conn = (id: string, openedAt: number): ConnectionInfo => ({ id, route: { kind: 'http', domain: 'a.relay.test' }, clientAddress: '127.0.0.1', openedAt, bytesIn: 0, bytesOut: 0 });

test('connections: open ones newest first, then a bounded history of closed ones', () => {
  const model = new ConnectionsModel(2);
  model.opened(conn('c1', 1));
  model.opened(conn('c2', 2));
  model.opened(conn('c3', 3));
  assert.deepEqual(model.entries().map((c) => c.id), ['c3', 'c2', 'c1']);
  const c2 = model.entries()[1];
  const changed = model.updated({ connections: [{ id: 'c2', bytesIn: 5, bytesOut: 7 }, { id: 'c3', bytesIn: 0, bytesOut: 0 }, { id: 'gone', bytesIn: 1, bytesOut: 1 }] });
  assert.deepEqual(changed.map((c) => c.id), ['c2'], 'only entries whose counts moved');
  assert.equal(changed[0], c2, 'updated in place: the tree can refresh that very row');
  assert.equal(model.entries()[1].bytesOut, 7);
  assert.deepEqual(model.updated({ connections: [{ id: 'c2', bytesIn: 5, bytesOut: 7 }] }), [], 'same counts again: nothing to redraw');
  model.updated({ connections: [{ id: 'c2', bytesIn: 1200 * 1024, bytesOut: 34 * 1024 }] });
  assert.match(describeConnection(c2).description, /↓1\.2 MB ↑34\.0 KB$/, 'open row shows the live figures');
  model.closedConnection({ id: 'c1', bytesIn: 10, bytesOut: 2048, closedAt: 4 });
  model.closedConnection({ id: 'c2', bytesIn: 1, bytesOut: 1, closedAt: 5, error: 'reset' });
  model.closedConnection({ id: 'unknown', bytesIn: 1, bytesOut: 1, closedAt: 5 });
  assert.equal(model.openCount, 1);
  assert.deepEqual(model.entries().map((c) => c.id), ['c3', 'c2', 'c1']);
  model.opened(conn('c4', 6));
  model.closedConnection({ id: 'c4', bytesIn: 0, bytesOut: 0, closedAt: 7 });
  assert.deepEqual(model.entries().map((c) => c.id), ['c3', 'c4', 'c2'], 'history keeps the 2 newest closed');
  const closed = describeConnection(model.entries()[2]);
  assert.equal(closed.label, '127.0.0.1 → a.relay.test');
  assert.match(closed.description, /closed: reset/);
  assert.match(describeConnection(model.entries()[0]).description, /↓0 B ↑0 B$/);
  model.reset();
  assert.deepEqual(model.entries(), []);
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MB');
});

test('status bar text: spinner while connecting, hostname online, reason offline', () => {
  assert.equal(statusView({ state: 'connecting', configured: true }).text, '$(sync~spin) Portway: connecting…');
  const online = statusView({ state: 'online', configured: true, hostname: 'a.relay.test', url: 'https://a.relay.test/', relayUrl: 'https://relay.test' });
  assert.equal(online.text, '$(radio-tower) a.relay.test');
  assert.match(online.tooltip, /https:\/\/a\.relay\.test\//);
  const offline = statusView({ state: 'offline', configured: true, reason: 'cannot reach relay https://relay.test: connect ECONNREFUSED 127.0.0.1:443', nextAttemptAt: 1 });
  assert.match(offline.text, /^\$\(warning\) Portway offline: cannot reach relay/);
  assert.match(offline.text, /… \(retrying\)$/);
  assert.equal(offline.warning, true);
  assert.equal(statusView({ state: 'stopped', configured: false }).text, '$(debug-disconnect) Portway');
  assert.match(statusView({ state: 'online', configured: true }, true).text, /agent stopped/);
});

test('inputs: ports, subdomains, networks, relay URLs', () => {
  assert.equal(parsePort('3000'), 3000);
  assert.equal(parsePort(':8080'), 8080);
  assert.equal(parsePort('0'), undefined);
  assert.equal(parsePort('65536'), undefined);
  assert.equal(parsePort('80a'), undefined);
  assert.equal(validateSubdomain(''), undefined);
  assert.equal(validateSubdomain('my-app'), undefined);
  assert.ok(validateSubdomain('-bad'));
  assert.ok(validateSubdomain('a.b'));
  assert.equal(validateNetwork('10.0.0.0/8'), undefined);
  assert.equal(validateNetwork('2001:db8::/32'), undefined);
  assert.ok(validateNetwork('example.com'));
  assert.ok(validateNetwork(''));
  assert.equal(validateRelayUrl('https://relay.example.com'), undefined);
  assert.equal(validateRelayUrl('relay.example.com:8080'), undefined);
  assert.ok(validateRelayUrl('ftp://relay.example.com'));
  assert.ok(validateRelayUrl(''));
  assert.deepEqual(
    portItems([
      { port: 8080, address: '0.0.0.0', family: 4, pid: 9, process: 'python3' },
      { port: 3000, address: '127.0.0.1', family: 4 },
      { port: 8080, address: '::', family: 6, pid: 9, process: 'python3' },
    ]),
    [
      { port: 3000, label: '3000', description: 'unknown process · 127.0.0.1' },
      { port: 8080, label: '8080', description: 'python3 (pid 9) · 0.0.0.0, ::' },
    ],
  );
});
