import type { IncomingMessage, ServerResponse } from 'node:http';
import { normalizeHost } from '../../../common/http-headers';
import { normalizeAddress } from '../../../common/net/client-address';
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
    remoteAddress: opts.remoteAddress ?? normalizeAddress(req.socket.remoteAddress ?? ''),
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
