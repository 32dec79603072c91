import type { RoutesSync } from '../../../protocol/control';
import type { AgentConfig, HttpRouteConfig } from '../config/schema';
import { routeKind } from '../serve/route-table';
import { isForwarded } from '../config/tcp-routes';

/** A plain proxy route may take the relay's raw fast path; the relay then rewrites Host itself. */
function proxyAnnouncement(route: HttpRouteConfig): { hostRewrite?: string } | undefined {
  if (routeKind(route) !== 'proxy' || route.letsencrypt || route.ca || route.redirect) return undefined;
  if (!route.hostRewrite) return {};
  const host = route.destination!.includes(':') ? `[${route.destination}]` : route.destination!;
  return { hostRewrite: route.http === 80 ? host : `${host}:${route.http}` };
}

/** The relay's view of the config: domains and ports with their firewall rules. */
export function routesAnnouncement(config: AgentConfig): RoutesSync {
  return {
    type: 'routes',
    http: config.http.map((r) => ({ domain: r.domain, firewall: r.firewall, proxy: proxyAnnouncement(r) })),
    // An allocated port without a forward is not announced: the relay closes its connections at once.
    tcp: config.tcp.filter(isForwarded).map((t) => ({ port: t.port, firewall: t.firewall })),
  };
}
