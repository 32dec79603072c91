import type { RequestHead } from './request-head';
import type { FastRoute } from './fast-route';

// Client-supplied forwarding headers are not believed: the relay states the facts itself.
const REPLACED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

/** The request head as the origin should see it: Host rewritten if asked, X-Forwarded-* set. */
export function serializeRequestHead(head: RequestHead, route: FastRoute): Buffer {
  let text = `${head.method} ${head.target} HTTP/${head.version}\r\n`;
  for (const [name, value] of head.headers) {
    const lower = name.toLowerCase();
    if (REPLACED.has(lower)) continue;
    if (lower === 'host' && route.hostRewrite !== undefined) text += `Host: ${route.hostRewrite}\r\n`;
    else text += `${name}: ${value}\r\n`;
  }
  text += `X-Forwarded-For: ${route.clientAddress}\r\nX-Forwarded-Proto: ${route.proto}\r\nX-Forwarded-Host: ${head.host ?? ''}\r\n\r\n`;
  return Buffer.from(text, 'latin1');
}
