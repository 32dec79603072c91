import type { AgentConfig, HttpRouteConfig, TcpRouteConfig } from '../config/schema';
import { publicTcpAddress, publicUrl } from '../config/public-address';
import { routeResultName } from '../../../protocol/control';
import type { HttpRoute, RouteList, TcpPortRoute } from '../../../protocol/rpc';

/** The relay's refusals of the last announcement, by routeResultName. */
export type RouteRejections = ReadonlyMap<string, string>;
const NONE: RouteRejections = new Map();

/** How the extension sees the config's routes (URLs, kinds, TLS modes). */

export function httpRouteOf(config: AgentConfig, route: HttpRouteConfig, rejections = NONE): HttpRoute {
  const rejected = rejections.get(routeResultName({ kind: 'http', domain: route.domain }));
  const kind = route.webroot ? 'webroot' : route.tls !== undefined && route.destination ? 'passthrough' : 'proxy';
  return {
    domain: route.domain,
    url: publicUrl(config.relay.url, route.domain),
    kind,
    destination: route.destination,
    httpPort: route.http,
    tlsPort: route.tls,
    webroot: route.webroot,
    tls: route.letsencrypt ? 'acme' : route.ca ? 'custom' : route.tls !== undefined ? 'passthrough' : 'none',
    redirectToHttps: route.redirect ?? false,
    firewall: route.firewall.map((r) => ({ action: r.action, network: r.network })),
    ...(rejected !== undefined ? { rejected } : {}),
  };
}

export function tcpRouteOf(config: AgentConfig, route: TcpRouteConfig, rejections = NONE): TcpPortRoute {
  const rejected = rejections.get(routeResultName({ kind: 'tcp', port: route.port }));
  return {
    port: route.port,
    address: publicTcpAddress(config.relay.url, config.hostname, route.port),
    destination: route.destination,
    destinationPort: route.dstport,
    firewall: route.firewall.map((r) => ({ action: r.action, network: r.network })),
    ...(rejected !== undefined ? { rejected } : {}),
  };
}

export function routeListOf(config: AgentConfig | undefined, rejections = NONE): RouteList {
  if (!config) return { http: [], tcp: [] };
  return { http: config.http.map((r) => httpRouteOf(config, r, rejections)), tcp: config.tcp.map((r) => tcpRouteOf(config, r, rejections)) };
}

