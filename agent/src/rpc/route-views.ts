import type { AgentConfig, HttpRouteConfig, TcpRouteConfig } from '../config/schema';
import { publicTcpAddress, publicUrl } from '../config/public-address';
import type { HttpRoute, RouteList, TcpPortRoute } from '../../../protocol/rpc';

/** How the extension sees the config's routes (URLs, kinds, TLS modes). */

export function httpRouteOf(config: AgentConfig, route: HttpRouteConfig): HttpRoute {
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
  };
}

export function tcpRouteOf(config: AgentConfig, route: TcpRouteConfig): TcpPortRoute {
  return {
    port: route.port,
    address: publicTcpAddress(config.relay.url, config.hostname, route.port),
    destination: route.destination,
    destinationPort: route.dstport,
    firewall: route.firewall.map((r) => ({ action: r.action, network: r.network })),
  };
}

export function routeListOf(config: AgentConfig | undefined): RouteList {
  if (!config) return { http: [], tcp: [] };
  return { http: config.http.map((r) => httpRouteOf(config, r)), tcp: config.tcp.map((r) => tcpRouteOf(config, r)) };
}

