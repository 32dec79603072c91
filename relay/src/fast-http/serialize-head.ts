import { forwardingHeaders, REPLACED_FORWARDING_HEADERS } from '../forwarded-headers';
import type { FastRoute } from './fast-route';
import type { RequestHead } from './request-head';

/** Lengths of the names that may be replaced (Host, and the forwarding headers): others are copied without lower-casing. */
const REPLACEABLE_LENGTHS: ReadonlySet<number> = new Set([4, ...[...REPLACED_FORWARDING_HEADERS].map((name) => name.length)]);

/** The request head as the origin should see it: Host rewritten if asked, X-Forwarded-* set. */
export function serializeRequestHead(head: RequestHead, route: FastRoute): Buffer {
  let text = `${head.method} ${head.target} HTTP/${head.version}\r\n`;
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (REPLACEABLE_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (REPLACED_FORWARDING_HEADERS.has(lower)) continue;
      if (lower === 'host' && route.hostRewrite !== undefined) {
        text += `Host: ${route.hostRewrite}\r\n`;
        continue;
      }
    }
    text += `${name}: ${raw[i + 1]}\r\n`;
  }
  const added = forwardingHeaders(route.forwardedFor, route.proto, head.host ?? '');
  for (let i = 0; i < added.length; i += 2) text += `${added[i]}: ${added[i + 1]}\r\n`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}
