import type { RoutesSync } from '../../../protocol/control';
import type { AgentConfig } from '../config/schema';

/** The relay's view of the config: domains and ports with their firewall rules. */
export function routesAnnouncement(config: AgentConfig): RoutesSync {
  return {
    type: 'routes',
    http: config.http.map((r) => ({ domain: r.domain, firewall: r.firewall })),
    tcp: config.tcp.map((t) => ({ port: t.port, firewall: t.firewall })),
  };
}
