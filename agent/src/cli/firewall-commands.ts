import { loadConfig, updateConfig } from '../config/config-file';
import { canonicalNetwork, firewallRulesOf, removeFirewallRule, routeLabel, setFirewallRule, type FirewallRouteRef } from '../config/firewall-rules';
import type { FirewallRuleConfig } from '../config/schema';
import type { FlagSpec, ParsedFlags } from './args';
import { cliErrors } from './commands/route-tcp';
import type { Command } from './command';
import { renderTable } from './table';

/** A kind of route that carries firewall rules, as its `… firewall allow|drop|rm|ls` commands see it. */
export interface FirewallTarget {
  /** The words before `firewall`, e.g. ['route', 'http']. */
  path: string[];
  /** With its article, for help texts: "an HTTP route", "a TCP port". */
  noun: string;
  /** The flag naming one route (--domain D, --port N). */
  keyFlag: FlagSpec;
  /** The route the flags name. */
  ref(flags: ParsedFlags): FirewallRouteRef;
}

const NETWORK: FlagSpec = { name: 'network', type: 'string', placeholder: 'CIDR', description: 'an address or network, IPv4 or IPv6 (e.g. 203.0.113.7 or 10.0.0.0/8)', required: true };

export function firewallTable(rules: FirewallRuleConfig[]): string {
  const onlyAllow = rules.length > 0 && rules.every((r) => r.action === 'allow');
  const summary = rules.length === 0 ? 'no rules: everyone is admitted' : onlyAllow ? 'only the allowed networks are admitted' : 'listed drops are refused, everyone else admitted';
  return `${renderTable(['Action', 'Network'], rules.map((r) => [r.action, r.network]))}\n(${summary})`;
}

function addRuleCommand(target: FirewallTarget, action: 'allow' | 'drop'): Command {
  return {
    path: [...target.path, 'firewall', action],
    summary: action === 'allow' ? `Admit only listed networks to ${target.noun} (everything else is dropped)` : `Drop a network from ${target.noun} (everything else is admitted)`,
    flags: [target.keyFlag, NETWORK],
    details: 'Rules are enforced by the relay, before any byte reaches this agent; a running `portway start` applies them at once.',
    async run(flags, ctx) {
      const ref = target.ref(flags);
      const network = canonicalNetwork(flags.network as string);
      await cliErrors(() => updateConfig(ctx.configPath, (config) => setFirewallRule(config, ref, action, network)));
      ctx.out(`${action === 'allow' ? 'Allowing' : 'Dropping'} ${network} on ${routeLabel(ref)}`);
    },
  };
}

function removeRuleCommand(target: FirewallTarget): Command {
  return {
    path: [...target.path, 'firewall', 'rm'],
    summary: `Remove the firewall rule for a network from ${target.noun}`,
    flags: [target.keyFlag, NETWORK],
    async run(flags, ctx) {
      const ref = target.ref(flags);
      const network = canonicalNetwork(flags.network as string);
      await cliErrors(() => updateConfig(ctx.configPath, (config) => removeFirewallRule(config, ref, network)));
      ctx.out(`Removed the rule for ${network} on ${routeLabel(ref)}`);
    },
  };
}

function listRulesCommand(target: FirewallTarget): Command {
  return {
    path: [...target.path, 'firewall', 'ls'],
    summary: `List the firewall rules of ${target.noun}`,
    flags: [target.keyFlag, { name: 'json', type: 'boolean', description: 'print JSON' }],
    async run(flags, ctx) {
      const rules = await cliErrors(() => firewallRulesOf(loadConfig(ctx.configPath), target.ref(flags)));
      ctx.out(flags.json ? JSON.stringify(rules, null, 2) : firewallTable(rules));
    },
  };
}

/** The four firewall subcommands of one kind of route. */
export function firewallCommands(target: FirewallTarget): { allow: Command; drop: Command; remove: Command; list: Command } {
  return {
    allow: addRuleCommand(target, 'allow'),
    drop: addRuleCommand(target, 'drop'),
    remove: removeRuleCommand(target),
    list: listRulesCommand(target),
  };
}
