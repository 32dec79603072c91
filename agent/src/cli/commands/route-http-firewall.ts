import { normalizeDomain } from '../../config/domain-rules';
import { firewallCommands } from '../firewall-commands';

const httpFirewall = firewallCommands({
  path: ['route', 'http'],
  noun: 'an HTTP route',
  keyFlag: { name: 'domain', type: 'string', placeholder: 'D', description: 'the HTTP route', required: true },
  ref: (flags) => ({ kind: 'http', domain: normalizeDomain(flags.domain as string) }),
});

export const routeHttpFirewallAllowCommand = httpFirewall.allow;
export const routeHttpFirewallDropCommand = httpFirewall.drop;
export const routeHttpFirewallRemoveCommand = httpFirewall.remove;
export const routeHttpFirewallListCommand = httpFirewall.list;
