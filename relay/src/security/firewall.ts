/**
 * A route's firewall, pktriot's model: rules of `allow` or `drop` for an address or CIDR block,
 * IPv4 or IPv6, enforced by the relay before any byte reaches the agent.
 *
 * - no rules: everyone gets in;
 * - only allow rules: the listed networks get in, everything else is dropped;
 * - only drop rules: the listed networks are dropped, everything else gets in;
 * - both: the first rule that matches decides; when none matches, the default is drop if any
 *   allow rule exists (an allow list is a promise that nobody else gets in), else allow.
 *
 * IPv4 clients arriving as `::ffff:a.b.c.d` are matched as IPv4. A rule inside `::ffff:0:0/96`
 * is an IPv4 rule (`::ffff:0:0/96` itself is 0.0.0.0/0). Other IPv6 rules, `::/0` included, match
 * IPv6 clients only, as in cloud security groups where 0.0.0.0/0 and ::/0 are written separately.
 */
import { parseAddress } from '../../../common/net/client-address';
import { InvalidNetworkError, Network } from '../../../common/net/network';

export type FirewallAction = 'allow' | 'drop';

export interface FirewallRule {
  action: FirewallAction;
  /** A single address or a CIDR block, IPv4 or IPv6. */
  network: string;
}

/** Rules per route; more is a mistake or an attack on the per-request check. */
export const MAX_FIREWALL_RULES = 1000;

export class FirewallRuleError extends Error {
  constructor(
    message: string,
    /** Position of the offending rule, when the error concerns one rule of a list. */
    readonly index?: number,
  ) {
    super(message);
    this.name = 'FirewallRuleError';
  }
}

/** Parses a rule's network (see Network.parse), reporting a bad one as a FirewallRuleError. */
export function parseNetwork(text: string): Network {
  try {
    return Network.parse(text);
  } catch (err) {
    if (err instanceof InvalidNetworkError) throw new FirewallRuleError(`invalid network: ${err.message}`);
    throw err;
  }
}

/** Validates one rule as it arrives from outside (the control channel) and canonicalises it. */
export function parseFirewallRule(rule: unknown, index?: number): { action: FirewallAction; network: Network } {
  const at = index === undefined ? '' : `rule ${index + 1}: `;
  if (typeof rule !== 'object' || rule === null) throw new FirewallRuleError(`${at}a rule must be an object`, index);
  const { action, network } = rule as Record<string, unknown>;
  if (action !== 'allow' && action !== 'drop') {
    throw new FirewallRuleError(`${at}action must be "allow" or "drop"`, index);
  }
  if (typeof network !== 'string') throw new FirewallRuleError(`${at}network must be text`, index);
  try {
    return { action, network: Network.parse(network) };
  } catch (err) {
    if (err instanceof InvalidNetworkError) throw new FirewallRuleError(`${at}invalid network: ${err.message}`, index);
    throw err;
  }
}

export interface FirewallDecision {
  allowed: boolean;
  /** The rule that decided, or undefined when the default did. */
  rule?: FirewallRule;
}

export class Firewall {
  /** The rules in canonical form (`10.0.0.0/8`, `2001:db8::/32`), in order, for `firewall ls`. */
  readonly rules: readonly FirewallRule[];
  /** What happens to an address no rule matches. */
  readonly defaultAction: FirewallAction;
  private readonly parsed: readonly { action: FirewallAction; network: Network }[];

  /** Throws FirewallRuleError for a bad rule; parses everything once, here, not per request. */
  constructor(rules: readonly FirewallRule[] = []) {
    if (!Array.isArray(rules)) throw new FirewallRuleError('rules must be a list');
    if (rules.length > MAX_FIREWALL_RULES) {
      throw new FirewallRuleError(`too many firewall rules (${rules.length}; the limit is ${MAX_FIREWALL_RULES})`);
    }
    this.parsed = rules.map((rule, index) => parseFirewallRule(rule, index));
    this.rules = Object.freeze(this.parsed.map(({ action, network }) => Object.freeze({ action, network: network.toString() })));
    this.defaultAction = this.parsed.some((rule) => rule.action === 'allow') ? 'drop' : 'allow';
  }

  /** Whether a client at `clientAddress` (socket or trusted-proxy address, any form) gets in. */
  allows(clientAddress: string): boolean {
    return this.decide(clientAddress).allowed;
  }

  decide(clientAddress: string): FirewallDecision {
    if (this.parsed.length === 0) return { allowed: true };
    const address = parseAddress(clientAddress);
    // Only reachable through a bug upstream; with rules in force, fail closed.
    if (!address) return { allowed: false };
    const kind = address.kind();
    const bytes = address.toByteArray();
    for (let i = 0; i < this.parsed.length; i++) {
      const rule = this.parsed[i];
      if (rule.network.containsBytes(kind, bytes)) return { allowed: rule.action === 'allow', rule: this.rules[i] };
    }
    return { allowed: this.defaultAction === 'allow' };
  }
}
