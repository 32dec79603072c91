import { assertDomainAllowed } from './domain-rules';
import { RouteNotFoundError } from './route-not-found';
import type { AgentConfig, HttpRouteConfig } from './schema';

/**
 * HTTP route edits, the one place the CLI and the RPC server change `config.http` (as
 * tcp-routes.ts is for `config.tcp`). Domains are expected normalised (normalizeDomain).
 */

/** The route of a domain, or RouteNotFoundError. */
export function findHttpRoute(config: AgentConfig, domain: string): HttpRouteConfig {
  const route = config.http.find((r) => r.domain === domain);
  if (!route) throw new RouteNotFoundError(`there is no HTTP route for ${domain} (see \`portway route http ls\`)`);
  return route;
}

/** Adds the route, or replaces the one of the same domain keeping its firewall rules. */
export function putHttpRoute(config: AgentConfig, route: HttpRouteConfig): 'added' | 'updated' {
  assertDomainAllowed(config, route.domain);
  const index = config.http.findIndex((r) => r.domain === route.domain);
  if (index < 0) {
    config.http.push(route);
    return 'added';
  }
  route.firewall = config.http[index].firewall; // a route's firewall survives a change of destination
  config.http[index] = route;
  return 'updated';
}

export function removeHttpRoute(config: AgentConfig, domain: string): void {
  const route = findHttpRoute(config, domain);
  config.http.splice(config.http.indexOf(route), 1);
}
