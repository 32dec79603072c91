import type { HttpRouteTlsMode } from '../../../protocol/control';
import type { AgentSession } from '../agent-session';
import type { HostRouter } from '../host-router';

/**
 * What the HTTPS listener does with a connection, decided from its SNI name alone.
 * `offlineTunnel`: the name is a tunnel's that has no session on this relay (in a cluster, the
 * relay holding it decides instead; see cluster/tunnels-elsewhere.ts).
 */
export type SniDecision =
  /** The route does TLS itself (at the agent or its destination): raw bytes go to the agent. */
  | { kind: 'pass-through'; session: AgentSession; mode: HttpRouteTlsMode }
  /** One of the relay's own names: the relay terminates TLS and serves it like the HTTP port. */
  | { kind: 'terminate'; offlineTunnel?: string }
  /** Closed without a byte: no SNI, a name nobody serves, or one the relay has no certificate for. */
  | { kind: 'refuse'; reason: string; offlineTunnel?: string };

export interface SniRoutingContext {
  domain: string;
  router: HostRouter;
  /** The online session serving a tunnel hostname. */
  sessionFor(hostname: string): AgentSession | undefined;
  /** Every online session (for names outside the relay's domain, e.g. verified custom domains). */
  sessions(): Iterable<AgentSession>;
  /** Whether an agent identity holds this hostname, online or not. */
  isKnownHostname(hostname: string): boolean;
  /** Whether the relay has a certificate for this one of its own names (--tls-cert, --acme). */
  terminates(serverName: string): boolean;
}

/** Picks the fate of a TLS connection from its server name; never falls back to a default tunnel. */
export function routeServerName(serverName: string | undefined, ctx: SniRoutingContext): SniDecision {
  if (!serverName) return { kind: 'refuse', reason: 'no SNI server name' };
  const target = ctx.router.route(serverName);
  if (target.kind === 'relay') {
    // Only the apex itself: an IP-literal "name" is not something clients send.
    if (serverName !== ctx.domain) return { kind: 'refuse', reason: `not a name of this relay: ${serverName}` };
    if (ctx.terminates(serverName)) return { kind: 'terminate' };
    return { kind: 'refuse', reason: `the relay has no certificate for ${serverName} (--tls-cert, --acme)` };
  }
  if (target.kind === 'tunnel') {
    const session = ctx.sessionFor(target.hostname);
    const mode = session?.routes.tlsMode(serverName);
    if (session && mode) return { kind: 'pass-through', session, mode };
    const offlineTunnel = session ? undefined : target.hostname;
    if ((session || ctx.isKnownHostname(target.hostname)) && ctx.terminates(serverName)) return { kind: 'terminate', offlineTunnel };
    return { kind: 'refuse', reason: `no TLS route for ${serverName}`, offlineTunnel };
  }
  for (const session of ctx.sessions()) {
    const mode = session.routes.tlsMode(serverName);
    if (mode) return { kind: 'pass-through', session, mode };
  }
  return { kind: 'refuse', reason: `unknown server name ${serverName}` };
}
