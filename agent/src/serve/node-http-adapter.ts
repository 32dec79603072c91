import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AgentRequest, type AgentResponse, headerMap } from './http-exchange';

export interface NodeExchangeOptions {
  proto: 'http' | 'https';
  /** The routed host; defaults to the Host header, normalised. */
  host?: string;
  /**
   * The public client's address. Defaults to the socket's peer, which is only right
   * when the client connects directly; behind the tunnel pass the stream's origin.
   */
  remoteAddress?: string;
  remotePort?: number;
}

/** Lower-cased, without port or trailing dot: how routes are keyed. */
export function normalizeHost(hostHeader: string | undefined): string {
  let host = (hostHeader ?? '').trim().toLowerCase();
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    host = close === -1 ? host : host.slice(0, close + 1); // IPv6 literal keeps its brackets
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** "::ffff:1.2.3.4" → "1.2.3.4", so IPv4 clients look the same on dual-stack sockets. */
function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Wraps a Node HTTP exchange (plain or TLS-terminated) as the agent's
 * AgentRequest/AgentResponse, so route handlers run the same behind either.
 */
export function adaptNodeExchange(
  req: IncomingMessage,
  res: ServerResponse,
  opts: NodeExchangeOptions,
): { request: AgentRequest; response: AgentResponse } {
  const request: AgentRequest = {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    rawHeaders: req.rawHeaders,
    headers: headerMap(req.rawHeaders),
    host: opts.host ?? normalizeHost(req.headers.host),
    proto: opts.proto,
    remoteAddress: opts.remoteAddress ?? unmapIPv4(req.socket.remoteAddress ?? ''),
    remotePort: opts.remotePort ?? req.socket.remotePort ?? 0,
    body: req,
  };
  const response: AgentResponse = {
    writeHead(status, rawHeaders, statusMessage) {
      // Node takes a flat [name, value, name, value…] array, keeping order and repeats.
      if (statusMessage === undefined) res.writeHead(status, rawHeaders);
      else res.writeHead(status, statusMessage, rawHeaders);
    },
    get headersSent() {
      return res.headersSent;
    },
    body: res,
    destroy(err) {
      res.destroy(err);
    },
  };
  return { request, response };
}
