import { headerMap, type AgentRequest } from './http-exchange';

// What a client claims about the path it took is not believed; the agent states the facts.
const REPLACED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

/**
 * Sets X-Forwarded-For/-Proto/-Host on a request the agent decrypted itself (TLS at the agent),
 * where the relay could not: it never saw the request.
 */
export function withForwardedFacts(request: AgentRequest): AgentRequest {
  const rawHeaders: string[] = [];
  let host = '';
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i].toLowerCase();
    if (name === 'host') host = request.rawHeaders[i + 1];
    if (!REPLACED.has(name)) rawHeaders.push(request.rawHeaders[i], request.rawHeaders[i + 1]);
  }
  rawHeaders.push('X-Forwarded-For', request.remoteAddress, 'X-Forwarded-Proto', request.proto, 'X-Forwarded-Host', host || request.host);
  return { ...request, rawHeaders, headers: headerMap(rawHeaders) };
}
