import type { AgentSession } from '../agent-session';

/** Where the fast path sends one request: a tunnel's proxy route, already admitted by its firewall. */
export interface FastRoute {
  session: AgentSession;
  /** Normalised host the request was routed by. */
  host: string;
  /** Same key = same route: requests with equal keys may share one stream (one origin connection). */
  key: string;
  /** Host header value to send instead of the visitor's (the destination), if the route rewrites it. */
  hostRewrite?: string;
  clientAddress: string;
  clientPort: number;
  proto: 'http' | 'https';
}
