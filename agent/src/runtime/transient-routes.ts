import type { AgentConfig, FirewallRuleConfig, HttpRouteConfig, TcpRouteConfig } from '../config/schema';

/** Routes that live only as long as one run (`portway http PORT`, `portway tcp PORT`). */
export interface TransientRoutes {
  http?: HttpRouteConfig[];
  tcp?: TcpRouteConfig[];
}

/**
 * The config with this run's transient routes: each replaces a saved route of the same domain
 * (HTTP) or relay port (TCP), keeping that route's firewall (the owner's rules still hold).
 */
export function withTransientRoutes(config: AgentConfig, transient: TransientRoutes): AgentConfig {
  const http = transient.http ?? [];
  const tcp = transient.tcp ?? [];
  if (http.length === 0 && tcp.length === 0) return config;
  return {
    ...config,
    http: overlay(config.http, http, (route) => route.domain),
    tcp: overlay(config.tcp, tcp, (route) => route.port).sort((a, b) => a.port - b.port),
  };
}

function overlay<R extends { firewall: FirewallRuleConfig[] }, K>(saved: R[], transient: R[], key: (route: R) => K): R[] {
  const savedByKey = new Map(saved.map((route) => [key(route), route]));
  const added = transient.map((route) => ({ ...route, firewall: savedByKey.get(key(route))?.firewall ?? route.firewall }));
  const keys = new Set(added.map(key));
  return [...added, ...saved.filter((route) => !keys.has(key(route)))];
}
