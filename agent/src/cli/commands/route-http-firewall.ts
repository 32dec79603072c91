import { InvalidNetworkError, Network } from '../../../../common/net/network';
import { loadConfig, updateConfig } from '../../config/config-file';
import type { FirewallRuleConfig, HttpRouteConfig } from '../../config/schema';
import { UsageError, type FlagSpec } from '../args';
import type { Command } from '../command';
import { normalizeDomain } from '../domain-rules';
import { renderTable } from '../table';

const DOMAIN: FlagSpec = { name: 'domain', type: 'string', placeholder: 'D', description: 'the HTTP route', required: true };
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

function findRoute(routes: HttpRouteConfig[], domain: string): HttpRouteConfig {
  const route = routes.find((r) => r.domain === domain);
  if (!route) throw new UsageError(`there is no HTTP route for ${domain} (see \`portway route http ls\`)`);
  return route;
}

function addRuleCommand(action: 'allow' | 'drop'): Command {
  return {
    path: ['route', 'http', 'firewall', action],
    summary: action === 'allow' ? 'Admit only listed networks to an HTTP route (everything else is dropped)' : 'Drop a network from an HTTP route (everything else is admitted)',
    flags: [DOMAIN, NETWORK],
    details: 'Rules are enforced by the relay, before any byte reaches this agent; a running `portway start` applies them at once.',
    async run(flags, ctx) {
      const domain = normalizeDomain(flags.domain as string);
      const network = canonicalNetwork(flags.network as string);
      updateConfig(ctx.configPath, (config) => {
        const route = findRoute(config.http, domain);
        if (route.firewall.some((r) => r.action === action && r.network === network)) return;
        route.firewall = route.firewall.filter((r) => r.network !== network); // one rule per network
        route.firewall.push({ action, network });
      });
      ctx.out(`${action === 'allow' ? 'Allowing' : 'Dropping'} ${network} on ${domain}`);
    },
  };
}

export const routeHttpFirewallAllowCommand = addRuleCommand('allow');
export const routeHttpFirewallDropCommand = addRuleCommand('drop');

export const routeHttpFirewallRemoveCommand: Command = {
  path: ['route', 'http', 'firewall', 'rm'],
  summary: 'Remove the firewall rule for a network from an HTTP route',
  flags: [DOMAIN, NETWORK],
  async run(flags, ctx) {
    const domain = normalizeDomain(flags.domain as string);
    const network = canonicalNetwork(flags.network as string);
    updateConfig(ctx.configPath, (config) => {
      const route = findRoute(config.http, domain);
      const before = route.firewall.length;
      route.firewall = route.firewall.filter((r) => r.network !== network);
      if (route.firewall.length === before) throw new UsageError(`${domain} has no rule for ${network}`);
    });
    ctx.out(`Removed the rule for ${network} on ${domain}`);
  },
};

export function firewallTable(rules: FirewallRuleConfig[]): string {
  const onlyAllow = rules.length > 0 && rules.every((r) => r.action === 'allow');
  const summary = rules.length === 0 ? 'no rules: everyone is admitted' : onlyAllow ? 'only the allowed networks are admitted' : 'listed drops are refused, everyone else admitted';
  return `${renderTable(['Action', 'Network'], rules.map((r) => [r.action, r.network]))}\n(${summary})`;
}

export const routeHttpFirewallListCommand: Command = {
  path: ['route', 'http', 'firewall', 'ls'],
  summary: 'List the firewall rules of an HTTP route',
  flags: [DOMAIN, { name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(flags, ctx) {
    const domain = normalizeDomain(flags.domain as string);
    const route = findRoute(loadConfig(ctx.configPath).http, domain);
    ctx.out(flags.json ? JSON.stringify(route.firewall, null, 2) : firewallTable(route.firewall));
  },
};
