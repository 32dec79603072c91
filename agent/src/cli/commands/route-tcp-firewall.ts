import { firewallCommands } from '../firewall-commands';

const tcpFirewall = firewallCommands({
  path: ['route', 'tcp'],
  noun: 'a TCP port',
  keyFlag: { name: 'port', type: 'port', placeholder: 'N', description: 'the allocated port', required: true },
  ref: (flags) => ({ kind: 'tcp', port: flags.port as number }),
});

export const routeTcpFirewallAllowCommand = tcpFirewall.allow;
export const routeTcpFirewallDropCommand = tcpFirewall.drop;
export const routeTcpFirewallRemoveCommand = tcpFirewall.remove;
export const routeTcpFirewallListCommand = tcpFirewall.list;
