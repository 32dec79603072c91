import { UsageError } from '../../config/usage-error';
import { firewallCommands } from '../firewall-commands';
import { normalizeDomain } from '../../config/domain-rules';

const httpFirewall = firewallCommands({
  path: ['route', 'http'],
  noun: 'an HTTP route',
  keyFlag: { name: 'domain', type: 'string', placeholder: 'D', description: 'the HTTP route', required: true },
  locate(config, flags) {
    const domain = normalizeDomain(flags.domain as string);
    const route = config.http.find((r) => r.domain === domain);
    if (!route) throw new UsageError(`there is no HTTP route for ${domain} (see \`portway route http ls\`)`);
    return { route, label: domain };
  },
});

export const routeHttpFirewallAllowCommand = httpFirewall.allow;
export const routeHttpFirewallDropCommand = httpFirewall.drop;
export const routeHttpFirewallRemoveCommand = httpFirewall.remove;
export const routeHttpFirewallListCommand = httpFirewall.list;
