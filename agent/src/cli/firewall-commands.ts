import { InvalidNetworkError, Network } from '../../../common/net/network';
import { loadConfig, updateConfig } from '../config/config-file';
import type { AgentConfig, FirewallRuleConfig } from '../config/schema';
import { UsageError } from '../config/usage-error';
import type { FlagSpec, ParsedFlags } from './args';
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
  /** The route the flags name, and how messages call it ("app.example.com", "port 22001"); UsageError if none. */
  locate(config: AgentConfig, flags: ParsedFlags): { route: { firewall: FirewallRuleConfig[] }; label: string };
}

const NETWORK: FlagSpec = { name: 'network', type: 'string', placeholder: 'CIDR', description: 'an address or network, IPv4 or IPv6 (e.g. 203.0.113.7 or 10.0.0.0/8)', required: true };

/** Canonical text of a network, or a UsageError saying what is wrong with it. */
export function canonicalNetwork(text: string): string {
  try {
    return Network.parse(text).toString();
  } catch (err) {
    if (err instanceof InvalidNetworkError) throw new UsageError(err.message);
    throw err;
  }
}

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
      const network = canonicalNetwork(flags.network as string);
      let label = '';
      updateConfig(ctx.configPath, (config) => {
        const found = target.locate(config, flags);
        label = found.label;
        const { route } = found;
        if (route.firewall.some((r) => r.action === action && r.network === network)) return;
        route.firewall = route.firewall.filter((r) => r.network !== network); // one rule per network
        route.firewall.push({ action, network });
      });
      ctx.out(`${action === 'allow' ? 'Allowing' : 'Dropping'} ${network} on ${label}`);
    },
  };
}

function removeRuleCommand(target: FirewallTarget): Command {
  return {
    path: [...target.path, 'firewall', 'rm'],
    summary: `Remove the firewall rule for a network from ${target.noun}`,
    flags: [target.keyFlag, NETWORK],
    async run(flags, ctx) {
      const network = canonicalNetwork(flags.network as string);
      let label = '';
      updateConfig(ctx.configPath, (config) => {
        const { route, label: found } = target.locate(config, flags);
        label = found;
        const before = route.firewall.length;
        route.firewall = route.firewall.filter((r) => r.network !== network);
        if (route.firewall.length === before) throw new UsageError(`${label} has no rule for ${network}`);
      });
      ctx.out(`Removed the rule for ${network} on ${label}`);
    },
  };
}

function listRulesCommand(target: FirewallTarget): Command {
  return {
    path: [...target.path, 'firewall', 'ls'],
    summary: `List the firewall rules of ${target.noun}`,
    flags: [target.keyFlag, { name: 'json', type: 'boolean', description: 'print JSON' }],
    async run(flags, ctx) {
      const { route } = target.locate(loadConfig(ctx.configPath), flags);
      ctx.out(flags.json ? JSON.stringify(route.firewall, null, 2) : firewallTable(route.firewall));
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
