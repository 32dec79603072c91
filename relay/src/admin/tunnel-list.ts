import type { TunnelRegistry } from '../tunnel-registry';

/** One online tunnel as /tunnels shows it (and `portway-relay tunnels ls` prints it). Never a secret. */
export interface TunnelInfo {
  hostname: string;
  /** The token's name and id; absent for AUTH_KEY or an open relay. */
  token?: { id: string; name?: string };
  agentAddress: string;
  connectedSince: string;
  openStreams: number;
  /** Visitor bytes: received from visitors (in), sent to them (out). */
  bytesIn: number;
  bytesOut: number;
  routes: { http: string[]; tcp: number[] };
}

export interface TunnelListResponse {
  tunnels: TunnelInfo[];
}

/** The online tunnels, hostname order. */
export function listTunnels(registry: TunnelRegistry, tokenName: (id: string) => string | undefined): TunnelInfo[] {
  return registry
    .all()
    .map((session): TunnelInfo => {
      const traffic = session.traffic;
      return {
        hostname: session.hostname,
        ...(session.tokenId ? { token: { id: session.tokenId, name: tokenName(session.tokenId) } } : {}),
        agentAddress: session.remoteAddress,
        connectedSince: session.connectedAt.toISOString(),
        openStreams: session.mux.streamCount,
        bytesIn: traffic.in,
        bytesOut: traffic.out,
        routes: { http: session.routes.announcedDomains.sort(), tcp: session.routes.announcedPorts.sort((a, b) => a - b) },
      };
    })
    .sort((a, b) => a.hostname.localeCompare(b.hostname));
}
