import type { IncomingMessage } from 'node:http';
import { withoutHopByHop } from '../../common/http-headers';

/**
 * Forwarding headers, declared once for both paths (this file for the full path,
 * fast-http/serialize-head.ts for the fast one). Client-supplied ones are not believed: they
 * are dropped, and the relay states the facts itself (X-Forwarded-For keeps a trusted proxy's
 * chain: the caller passes it as `forwardedFor`).
 */
export const REPLACED_FORWARDING_HEADERS: ReadonlySet<string> = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

/** The X-Forwarded-* headers the relay adds, as alternating names and values. */
export function forwardingHeaders(forwardedFor: string, proto: 'http' | 'https', host: string): string[] {
  return ['X-Forwarded-For', forwardedFor, 'X-Forwarded-Proto', proto, 'X-Forwarded-Host', host];
}

/** The request's headers as the agent should see them: hop-by-hop removed, X-Forwarded-* set. */
export function forwardedRequestHeaders(req: IncomingMessage, clientAddress: string, proto: 'http' | 'https', keepUpgrade: boolean, forwardedFor = clientAddress): string[] {
  const headers = withoutHopByHop(req.rawHeaders, keepUpgrade, REPLACED_FORWARDING_HEADERS);
  headers.push(...forwardingHeaders(forwardedFor, proto, req.headers.host ?? ''));
  return headers;
}
