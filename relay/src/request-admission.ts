import type { AgentSession } from './agent-session';
import type { HostRouter } from './host-router';
import type { AnnouncedHttpRoute } from './session-routes';
import type { TunnelRegistry } from './tunnel-registry';

/**
 * What the relay does with one public HTTP request, decided once for every entry point (the fast
 * path, full requests, upgrades); each entry point only maps the refusals to its own answer.
 */
export type Admission =
  | { kind: 'relay' } // the apex or a bare address: the relay's own endpoints
  | { kind: 'unknown' } // no tunnel could ever serve this host
  | { kind: 'unassigned'; hostname: string } // tunnel-shaped, but no identity holds the hostname
  | { kind: 'offline'; hostname: string } // an identity holds it; its agent is not connected
  | { kind: 'forbidden' } // the route's firewall drops this client
  | { kind: 'busy'; session: AgentSession } // the session has no stream to spare
  | { kind: 'crowded'; session: AgentSession } // this client address holds its share of the session's streams
  | { kind: 'admitted'; session: AgentSession; route: AnnouncedHttpRoute | undefined };

export interface AdmissionRules {
  router: HostRouter;
  registry: TunnelRegistry;
  isKnownHostname(hostname: string): boolean;
}

/**
 * Routes a normalised host and applies the route's firewall to the client's (real) address.
 * `holdsStream`: the request goes on a stream its connection already holds (a kept-alive fast-path
 * connection), so no stream limit applies to it.
 */
export function admit(rules: AdmissionRules, host: string, clientAddress: string, holdsStream = false): Admission {
  const target = rules.router.route(host);
  if (target.kind !== 'tunnel') return target;
  const session = rules.registry.get(target.hostname);
  if (!session) return { kind: rules.isKnownHostname(target.hostname) ? 'offline' : 'unassigned', hostname: target.hostname };
  const route = session.routes.httpRoute(host);
  // The firewall is checked for every request (also each one on a kept-alive connection).
  if (route?.firewall.allows(clientAddress) === false) {
    session.reportBlocked(host, clientAddress);
    return { kind: 'forbidden' };
  }
  if (holdsStream) return { kind: 'admitted', session, route };
  if (session.atStreamLimit) return { kind: 'busy', session };
  if (session.atAddressShare(clientAddress)) return { kind: 'crowded', session };
  return { kind: 'admitted', session, route };
}
