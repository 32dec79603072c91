import type { IncomingMessage } from 'node:http';
import { withoutHopByHop } from '../../common/http-headers';

// Client-supplied forwarding headers are not believed: the relay states the facts itself
// (X-Forwarded-For keeps a trusted proxy's chain: the caller passes it as `forwardedFor`).
const REPLACED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

/** The request's headers as the agent should see them: hop-by-hop removed, X-Forwarded-* set. */
export function forwardedRequestHeaders(req: IncomingMessage, clientAddress: string, proto: 'http' | 'https', keepUpgrade: boolean, forwardedFor = clientAddress): string[] {
  const headers = withoutHopByHop(req.rawHeaders, keepUpgrade, REPLACED);
  headers.push('X-Forwarded-For', forwardedFor, 'X-Forwarded-Proto', proto, 'X-Forwarded-Host', req.headers.host ?? '');
  return headers;
}
