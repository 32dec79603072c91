import { InvalidNetworkError, Network } from '../../../common/net/network';
import { findHttpRoute } from './http-routes';
import type { AgentConfig, FirewallRuleConfig } from './schema';
import { findTcpRoute } from './tcp-routes';
import { RouteNotFoundError } from './route-not-found';
import { UsageError } from './usage-error';

/**
 * Firewall edits, the one place the CLI and the RPC server change a route's rules, so both
 * front ends give the same result: one rule per network (a new action replaces the old one,
 * since the first match wins and a second rule would be dead), networks kept in canonical text.
 */

/** The route whose rules are edited: an HTTP route by normalised domain, a TCP port by number. */
export type FirewallRouteRef = { kind: 'http'; domain: string } | { kind: 'tcp'; port: number };

/** "10.0.0.1/32", " ::1 " → canonical text ("10.0.0.1", "::1"); anything else is a UsageError. */
export function canonicalNetwork(text: string): string {
  try {
    return Network.parse(text).toString();
  } catch (err) {
    if (err instanceof InvalidNetworkError) throw new UsageError(`${err.message} (e.g. 203.0.113.7 or 10.0.0.0/8)`);
    throw err;
  }
}

/** How messages name the route: "app.example.com", "port 22001". */
export function routeLabel(ref: FirewallRouteRef): string {
  return ref.kind === 'http' ? ref.domain : `port ${ref.port}`;
}

/** The route's rules (the live array), or RouteNotFoundError / TcpPortError('not-allocated'). */
export function firewallRulesOf(config: AgentConfig, ref: FirewallRouteRef): FirewallRuleConfig[] {
  return (ref.kind === 'http' ? findHttpRoute(config, ref.domain) : findTcpRoute(config, ref.port)).firewall;
}

/** Sets the rule for a network (replacing any other action for it); returns the route's rules. */
export function setFirewallRule(config: AgentConfig, ref: FirewallRouteRef, action: FirewallRuleConfig['action'], networkText: string): FirewallRuleConfig[] {
  const network = canonicalNetwork(networkText);
  const rules = firewallRulesOf(config, ref);
  if (rules.some((r) => r.action === action && r.network === network)) return rules;
  const kept = rules.filter((r) => r.network !== network);
  rules.splice(0, rules.length, ...kept, { action, network });
  return rules;
}

/** Removes the rule for a network, whatever its action; returns the route's rules. */
export function removeFirewallRule(config: AgentConfig, ref: FirewallRouteRef, networkText: string): FirewallRuleConfig[] {
  const network = canonicalNetwork(networkText);
  const rules = firewallRulesOf(config, ref);
  const index = rules.findIndex((r) => r.network === network);
  if (index < 0) throw new RouteNotFoundError(`${routeLabel(ref)} has no rule for ${network}`);
  rules.splice(index, 1);
  return rules;
}
