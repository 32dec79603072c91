import type { Duplex, Readable, Writable } from 'node:stream';

/**
 * One HTTP request as the agent's route handlers see it, whether it arrived as a
 * structured stream from the relay or through TLS terminated at the agent.
 */
export interface AgentRequest {
  method: string;
  /** Origin-form request target, e.g. "/a/b?c=1". */
  url: string;
  /** Alternating names and values, as received (X-Forwarded-* already set by the relay). */
  rawHeaders: string[];
  /** Lower-cased header map built from rawHeaders (repeated headers joined with ", "). */
  headers: Record<string, string>;
  /** Host the request was routed by: lower-case, no port, no trailing dot. */
  host: string;
  proto: 'http' | 'https';
  remoteAddress: string;
  remotePort: number;
  /** The request body (empty for GET and friends). */
  body: Readable;
  /** False when the request surely has no body (the relay says so); undefined when unknown. */
  hasBody?: boolean;
}

/** The response side. writeHead must be called exactly once before the body is written. */
export interface AgentResponse {
  writeHead(status: number, rawHeaders: string[], statusMessage?: string): void;
  readonly headersSent: boolean;
  /** The response body; end() it when done. */
  body: Writable;
  /** Abort the exchange (the client sees a reset connection). */
  destroy(err?: Error): void;
  /**
   * Present only for Upgrade requests (WebSocket): sends a 101 with these headers and
   * returns the raw byte stream to the client; the body stream is not used afterwards.
   */
  switchProtocols?(rawHeaders: string[], statusMessage?: string): Duplex;
}

export type HttpHandler = (req: AgentRequest, res: AgentResponse) => void;

/** Builds the lower-cased header map from raw pairs. */
export function headerMap(rawHeaders: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    map[name] = name in map ? `${map[name]}, ${rawHeaders[i + 1]}` : rawHeaders[i + 1];
  }
  return map;
}
