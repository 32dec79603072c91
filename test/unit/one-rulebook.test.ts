/**
 * The CLI and the extension's RPC core edit routes and firewalls through the same config
 * modules: the same sequence of edits through each front end saves the same config.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig, saveConfig } from '../../agent/src/config/config-file';
import type { AgentConfig } from '../../agent/src/config/schema';
import { ConfigBackedCore } from '../../agent/src/rpc/config-backed-core';
import { AgentCoreError } from '../../agent/src/rpc/agent-core';
import { RpcErrorCode, type FirewallAction, type RouteRef } from '../../protocol/rpc';
import { portway, tempDir } from '../helpers/processes';

const HOST = 'small-fire-20477.localhost';
const APP = `app.${HOST}`;

const base = (): AgentConfig => ({
  version: 1,
  relay: { url: 'http://127.0.0.1:1' },
  identity: 'x'.repeat(43),
  hostname: HOST,
  http: [],
  tcp: [{ port: 22001, destination: '127.0.0.1', dstport: 22, firewall: [] }],
});

/** One edit, as each front end says it. */
type Edit =
  | { op: 'route'; domain: string; port: number }
  | { op: 'rule'; route: RouteRef; action: FirewallAction; network: string }
  | { op: 'unrule'; route: RouteRef; network: string }
  | { op: 'unroute'; domain: string };

const EDITS: Edit[] = [
  { op: 'route', domain: APP, port: 3000 },
  { op: 'rule', route: { kind: 'http', domain: APP }, action: 'allow', network: '10.0.0.1' },
  // The bug: over RPC both rules were kept, and the first match made the drop dead.
  { op: 'rule', route: { kind: 'http', domain: APP }, action: 'drop', network: '10.0.0.1' },
  { op: 'rule', route: { kind: 'http', domain: APP }, action: 'drop', network: '192.168.0.0/16' },
  // The bug: removing by non-canonical text failed over RPC.
  { op: 'unrule', route: { kind: 'http', domain: APP }, network: '10.0.0.1/32' },
  { op: 'route', domain: APP, port: 3001 }, // a new destination keeps the rules
  { op: 'route', domain: `blog.${HOST}`, port: 4000 },
  { op: 'unroute', domain: `blog.${HOST}` },
  { op: 'rule', route: { kind: 'tcp', port: 22001 }, action: 'drop', network: '::1' },
  { op: 'rule', route: { kind: 'tcp', port: 22001 }, action: 'allow', network: '0:0:0:0:0:0:0:1' },
];

function cliArgs(edit: Edit): string[] {
  const target = (route: RouteRef) => (route.kind === 'http' ? ['route', 'http', 'firewall', '--domain', route.domain] : ['route', 'tcp', 'firewall', '--port', String(route.port)]);
  const withVerb = (route: RouteRef, verb: string) => {
    const words = target(route);
    return [...words.slice(0, 3), verb, ...words.slice(3)];
  };
  switch (edit.op) {
    case 'route':
      return ['route', 'http', 'add', '--domain', edit.domain, '--destination', '127.0.0.1', '--http', String(edit.port)];
    case 'unroute':
      return ['route', 'http', 'rm', '--domain', edit.domain];
    case 'rule':
      return [...withVerb(edit.route, edit.action), '--network', edit.network];
    case 'unrule':
      return [...withVerb(edit.route, 'rm'), '--network', edit.network];
  }
}

async function viaRpc(core: ConfigBackedCore, edit: Edit): Promise<void> {
  switch (edit.op) {
    case 'route':
      await core.addHttpRoute({ domain: edit.domain, destination: '127.0.0.1', httpPort: edit.port, requireListening: false });
      return;
    case 'unroute':
      return core.removeHttpRoute(edit.domain);
    case 'rule':
      await core.addFirewallRule(edit.route, { action: edit.action, network: edit.network });
      return;
    case 'unrule':
      await core.removeFirewallRule(edit.route, { action: 'drop', network: edit.network });
      return;
  }
}

describe('one rulebook for the CLI and the RPC', () => {
  const dir = tempDir();
  const cliConfig = path.join(dir, 'cli.json');
  const rpcConfig = path.join(dir, 'rpc.json');
  saveConfig(cliConfig, base());
  saveConfig(rpcConfig, base());
  const core = new ConfigBackedCore(rpcConfig);
  after(() => core.dispose());

  it('the same edits save the same config through both front ends', async () => {
    for (const edit of EDITS) {
      const result = await portway(cliConfig, cliArgs(edit));
      assert.equal(result.code, 0, `${cliArgs(edit).join(' ')}: ${result.stderr}`);
      await viaRpc(core, edit);
      assert.deepEqual(loadConfig(rpcConfig), loadConfig(cliConfig), `after ${JSON.stringify(edit)}`);
    }
    const saved = loadConfig(rpcConfig);
    assert.deepEqual(JSON.parse(JSON.stringify(saved.http)), [{ domain: APP, destination: '127.0.0.1', http: 3001, hostRewrite: true, firewall: [{ action: 'drop', network: '192.168.0.0/16' }] }]);
    assert.deepEqual(saved.tcp[0].firewall, [{ action: 'allow', network: '::1' }]);
  });

  it('refuses the same bad edits, losing nothing: an unknown network rule, a bad network, a missing route', async () => {
    const before = loadConfig(rpcConfig);
    const missingRule = await portway(cliConfig, ['route', 'http', 'firewall', 'rm', '--domain', APP, '--network', '10.9.9.9']);
    assert.equal(missingRule.code, 2);
    assert.match(missingRule.stderr, /has no rule for 10\.9\.9\.9/);
    await assert.rejects(core.removeFirewallRule({ kind: 'http', domain: APP }, { action: 'drop', network: '10.9.9.9' }), (err: AgentCoreError) => err.code === RpcErrorCode.NotFound && /has no rule for 10\.9\.9\.9/.test(err.message));
    const badNetwork = await portway(cliConfig, ['route', 'http', 'firewall', 'allow', '--domain', APP, '--network', '10.0.0.1/8']);
    assert.equal(badNetwork.code, 2);
    assert.match(badNetwork.stderr, /host bits set/);
    await assert.rejects(core.addFirewallRule({ kind: 'http', domain: APP }, { action: 'allow', network: '10.0.0.1/8' }), (err: AgentCoreError) => err.code === RpcErrorCode.InvalidArgument && /host bits set/.test(err.message));
    await assert.rejects(core.addFirewallRule({ kind: 'http', domain: `nope.${HOST}` }, { action: 'allow', network: '10.0.0.1' }), (err: AgentCoreError) => err.code === RpcErrorCode.NotFound);
    assert.deepEqual(loadConfig(rpcConfig), before);
    assert.deepEqual(loadConfig(cliConfig), before);
  });
});
