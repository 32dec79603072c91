import type { RoutesSync } from '../../../protocol/control';
import type { AgentConfig, HttpRouteConfig } from '../config/schema';
import { routeKind } from '../serve/route-table';
import { isForwarded } from '../config/tcp-routes';
import { tlsModeOf } from '../tls/tls-mode';
import { hostHeaderFor } from '../../../common/net/host-port';

/** A plain proxy route may take the relay's raw fast path; the relay then rewrites Host itself. */
function proxyAnnouncement(route: HttpRouteConfig): { hostRewrite?: string } | undefined {
  if (routeKind(route) !== 'proxy' || route.letsencrypt || route.ca || route.redirect) return undefined;
  if (!route.hostRewrite) return {};
  return { hostRewrite: hostHeaderFor(route.destination!, route.http!) };
}

/** The relay's view of the config: domains (with who terminates their TLS) and ports, with their firewall rules. */
export function routesAnnouncement(config: AgentConfig): RoutesSync {
  return {
    type: 'routes',
    http: config.http.map((r) => {
      const tls = tlsModeOf(r);
      return { domain: r.domain, firewall: r.firewall, proxy: proxyAnnouncement(r), ...(tls ? { tls } : {}) };
    }),
    // An allocated port without a forward is not announced: the relay closes its connections at once.
    tcp: config.tcp.filter(isForwarded).map((t) => ({ port: t.port, firewall: t.firewall })),
  };
}
