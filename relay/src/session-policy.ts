import type { AgentSession } from './agent-session';

/**
 * Relay features plug into agent sessions here instead of editing the gateway:
 * what a session may claim (domains, ports) and which control requests it may make.
 * Each feature (TCP ports, custom domains, tokens…) contributes from its own file.
 */
export interface SessionPolicy {
  /** May this session serve the domain? (Its hostname and subdomains are always allowed.) */
  mayUseDomain(session: AgentSession, domain: string): boolean;
  /** May this session receive connections on this TCP port? */
  mayUsePort(session: AgentSession, port: number): boolean;
}

/** A control request handler: params come from the network and must be validated. */
export type RelayRequestHandler = (session: AgentSession, params: unknown) => unknown | Promise<unknown>;

/** Called when a session comes online / goes offline (e.g. to open and close its TCP listeners). */
export interface SessionObserver {
  online?(session: AgentSession): void;
  offline?(session: AgentSession): void;
  /** After the session's announced routes changed. */
  routesChanged?(session: AgentSession): void;
}

export class SessionFeatures implements SessionPolicy {
  readonly requestHandlers = new Map<string, RelayRequestHandler>();
  private readonly domainRules: ((session: AgentSession, domain: string) => boolean)[] = [];
  private readonly portRules: ((session: AgentSession, port: number) => boolean)[] = [];
  readonly observers: SessionObserver[] = [];
  private readonly tunnelGates: (() => string | undefined)[] = [];

  handle(method: string, handler: RelayRequestHandler): void {
    this.requestHandlers.set(method, handler);
  }

  allowDomains(rule: (session: AgentSession, domain: string) => boolean): void {
    this.domainRules.push(rule);
  }

  allowPorts(rule: (session: AgentSession, port: number) => boolean): void {
    this.portRules.push(rule);
  }

  observe(observer: SessionObserver): void {
    this.observers.push(observer);
  }

  /** A check before any new tunnel session: a message refuses it for now (the agent retries). */
  gateTunnels(gate: () => string | undefined): void {
    this.tunnelGates.push(gate);
  }

  /** Why new tunnel sessions are refused right now, if they are. */
  tunnelRefusal(): string | undefined {
    for (const gate of this.tunnelGates) {
      const refusal = gate();
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }

  mayUseDomain(session: AgentSession, domain: string): boolean {
    return session.ownsDomain(domain) || this.domainRules.some((rule) => rule(session, domain));
  }

  mayUsePort(session: AgentSession, port: number): boolean {
    return this.portRules.some((rule) => rule(session, port));
  }
}
