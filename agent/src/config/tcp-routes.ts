import type { TcpErrorCode } from '../../../protocol/control-tcp';
import { normalizeDestination } from './destination';
import type { AgentConfig, TcpRouteConfig } from './schema';

/** What can be wrong with a TCP port request: the relay's codes and the agent's own. */
export type TcpPortProblem = TcpErrorCode | 'not-allocated' | 'invalid-destination';

export class TcpPortError extends Error {
  constructor(
    readonly code: TcpPortProblem,
    message: string,
  ) {
    super(message);
    this.name = 'TcpPortError';
  }
}

/** An allocated port with somewhere to send its connections. */
export type ForwardedTcpRoute = TcpRouteConfig & { destination: string; dstport: number };

/** The address a forward connects to, when none is given. */
export const DEFAULT_TCP_DESTINATION = '127.0.0.1';

/** normalizeDestination, with the TCP commands' error type. */
export function normalizeTcpDestination(text: string): string {
  try {
    return normalizeDestination(text);
  } catch (err) {
    throw new TcpPortError('invalid-destination', (err as Error).message);
  }
}

/** The route of an allocated port, or TcpPortError('not-allocated'). */
export function findTcpRoute(config: AgentConfig, port: number): TcpRouteConfig {
  const route = config.tcp.find((t) => t.port === port);
  if (!route) {
    throw new TcpPortError('not-allocated', `port ${port} is not allocated to this agent; run \`portway route tcp allocate\` first (see \`portway route tcp ls\`)`);
  }
  return route;
}

/** Records a port the relay allocated (no forward yet); keeps an existing entry as it is. */
export function recordTcpAllocation(config: AgentConfig, port: number): TcpRouteConfig {
  const existing = config.tcp.find((t) => t.port === port);
  if (existing) return existing;
  const route: TcpRouteConfig = { port, firewall: [] };
  config.tcp.push(route);
  config.tcp.sort((a, b) => a.port - b.port);
  return route;
}

/** Points an allocated port at destination:dstport, replacing any previous forward (firewall kept). */
export function setTcpForward(config: AgentConfig, port: number, destination: string, dstport: number): ForwardedTcpRoute {
  const address = normalizeTcpDestination(destination);
  const route = findTcpRoute(config, port);
  route.destination = address;
  route.dstport = dstport;
  return route as ForwardedTcpRoute;
}

export function removeTcpRoute(config: AgentConfig, port: number): void {
  config.tcp = config.tcp.filter((t) => t.port !== port);
}

/** Whether connections to this port go anywhere (the relay is told only about such ports). */
export function isForwarded(route: TcpRouteConfig): route is ForwardedTcpRoute {
  return route.destination !== undefined && route.dstport !== undefined;
}
