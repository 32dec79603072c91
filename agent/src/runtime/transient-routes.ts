import type { AgentConfig, HttpRouteConfig } from '../config/schema';

/**
 * The config with routes that live only as long as one run (`portway http PORT`): each replaces
 * a saved route of the same domain, keeping that route's firewall (the owner's rules still hold).
 */
export function withTransientRoutes(config: AgentConfig, transient: readonly HttpRouteConfig[]): AgentConfig {
  if (transient.length === 0) return config;
  const saved = new Map(config.http.map((route) => [route.domain, route]));
  const overlay = transient.map((route) => ({ ...route, firewall: saved.get(route.domain)?.firewall ?? route.firewall }));
  const domains = new Set(overlay.map((route) => route.domain));
  return { ...config, http: [...overlay, ...config.http.filter((route) => !domains.has(route.domain))] };
}
