import type { Command } from '../command';
import { configureCommand } from './configure';
import { httpCommand } from './http';
import { tcpCommand } from './tcp';
import { domainAddCommand, domainListCommand, domainRemoveCommand, domainVerifyCommand } from './domain';
import { infoCommand } from './info';
import { routeHttpAddCommand, routeHttpListCommand, routeHttpRemoveCommand } from './route-http';
import {
  routeHttpFirewallAllowCommand,
  routeHttpFirewallDropCommand,
  routeHttpFirewallListCommand,
  routeHttpFirewallRemoveCommand,
} from './route-http-firewall';
import { routeTcpAllocateCommand, routeTcpForwardCommand, routeTcpListCommand, routeTcpReleaseCommand } from './route-tcp';
import {
  routeTcpFirewallAllowCommand,
  routeTcpFirewallDropCommand,
  routeTcpFirewallListCommand,
  routeTcpFirewallRemoveCommand,
} from './route-tcp-firewall';
import { rpcCommand } from './rpc';
import { startCommand } from './start';

/** Every CLI command, in the order `portway --help` lists them. */
export const COMMANDS: Command[] = [
  configureCommand,
  infoCommand,
  startCommand,
  httpCommand,
  tcpCommand,
  routeHttpAddCommand,
  routeHttpRemoveCommand,
  routeHttpListCommand,
  routeHttpFirewallAllowCommand,
  routeHttpFirewallDropCommand,
  routeHttpFirewallRemoveCommand,
  routeHttpFirewallListCommand,
  routeTcpAllocateCommand,
  routeTcpForwardCommand,
  routeTcpReleaseCommand,
  routeTcpListCommand,
  routeTcpFirewallAllowCommand,
  routeTcpFirewallDropCommand,
  routeTcpFirewallRemoveCommand,
  routeTcpFirewallListCommand,
  domainAddCommand,
  domainVerifyCommand,
  domainListCommand,
  domainRemoveCommand,
  rpcCommand,
];
