import type { AgentSession } from '../agent-session';

/** Who is on the other end of a visitor connection; worked out once per connection, not per request. */
export interface ClientPeer {
  address: string;
  port: number;
  /** A trusted proxy speaks for other clients: each request's forwarding headers name its client. */
  trustedProxy: boolean;
}

/** Where the fast path sends one request: a tunnel's proxy route, already admitted by its firewall. */
export interface FastRoute {
  session: AgentSession;
  /** Normalised host the request was routed by. */
  host: string;
  /** Same key = same route: requests with equal keys may share one stream (one origin connection). */
  key: string;
  /** Host header value to send instead of the visitor's (the destination), if the route rewrites it. */
  hostRewrite?: string;
  /** The real client (a trusted proxy's X-Forwarded-For resolved): what the firewall admitted. */
  clientAddress: string;
  /** The X-Forwarded-For the origin gets: a trusted proxy's chain plus the proxy, else clientAddress. */
  forwardedFor: string;
  clientPort: number;
  proto: 'http' | 'https';
}
