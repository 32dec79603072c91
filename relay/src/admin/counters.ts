/**
 * The relay's counters, as plain numbers: the hot paths (the fast path above all) only add to
 * them, and the Prometheus registry (admin/relay-metrics.ts) reads them at scrape time. One per
 * process, like prom-client's default registry.
 */
export class RelayCounters {
  /** Visitor responses by status code (index = code); fast and full path alike. */
  readonly responsesByCode = new Float64Array(600);
  /** Visitor bytes of streams that have closed: received from visitors (in), sent to them (out). */
  closedBytesIn = 0;
  closedBytesOut = 0;
  /** Agent connections by outcome: accepted, or the refusal code (unauthorized, rate-limited…). */
  readonly agentSessions = new Map<string, number>();
  tcpConnections = 0;
  /** Visitor requests forwarded on the fast path (the rest took the full HTTP server). */
  fastPathRequests = 0;
  firewallRefusals = 0;
  /** Request bodies cut for sending nothing for --body-timeout-ms. */
  bodyTimeouts = 0;

  response(status: number): void {
    if (status >= 100 && status < 600) this.responsesByCode[status]++;
  }

  agentSession(result: string): void {
    this.agentSessions.set(result, (this.agentSessions.get(result) ?? 0) + 1);
  }
}

export const counters = new RelayCounters();
