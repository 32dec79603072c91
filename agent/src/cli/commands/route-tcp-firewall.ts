import { firewallCommands } from '../firewall-commands';
import { locateTcpPort } from './route-tcp';

const tcpFirewall = firewallCommands({
  path: ['route', 'tcp'],
  noun: 'a TCP port',
  keyFlag: { name: 'port', type: 'port', placeholder: 'N', description: 'the allocated port', required: true },
  locate(config, flags) {
    const port = flags.port as number;
    return { route: locateTcpPort(config, port), label: `port ${port}` };
  },
});

export const routeTcpFirewallAllowCommand = tcpFirewall.allow;
export const routeTcpFirewallDropCommand = tcpFirewall.drop;
export const routeTcpFirewallRemoveCommand = tcpFirewall.remove;
export const routeTcpFirewallListCommand = tcpFirewall.list;
