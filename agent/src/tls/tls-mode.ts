import type { HttpRouteTlsMode } from '../../../protocol/control';
import type { HttpRouteConfig } from '../config/schema';

/**
 * Who terminates TLS for a route reached on the relay's HTTPS port: the agent (ACME or a custom
 * certificate), the destination (--tls PORT: passed through), or nobody (undefined).
 */
export function tlsModeOf(route: HttpRouteConfig): HttpRouteTlsMode | undefined {
  if (route.letsencrypt || (route.ca && route.key)) return 'agent';
  if (route.tls !== undefined && route.destination) return 'passthrough';
  return undefined;
}
