import { forwardingHeaders, REPLACED_FORWARDING_HEADERS } from '../forwarded-headers';
import type { FastRoute } from './fast-route';
import type { RequestHead } from './request-head';
import { REPLACEABLE_LENGTHS } from './request-head-scan';

/**
 * The request head as the origin should see it: Host rewritten if asked, X-Forwarded-* set.
 * `bytes` holds the head as received (at its start): a head the byte scan read is copied from
 * it, only its Host and forwarding lines changed, rather than rebuilt string by string.
 */
export function serializeRequestHead(head: RequestHead, route: FastRoute, bytes: Buffer): Buffer {
  const lines = head.replaceable;
  if (lines === undefined) return rebuildHead(head, route);
  let tail = '';
  const added = forwardingHeaders(route.forwardedFor, route.proto, head.host ?? '');
  for (let i = 0; i < added.length; i += 2) tail += `${added[i]}: ${added[i + 1]}\r\n`;
  tail += '\r\n';
  const hostLine = route.hostRewrite === undefined ? undefined : `Host: ${route.hostRewrite}\r\n`;
  const kept = head.size - 2; // the request line and header lines, each with its CRLF
  let length = kept + tail.length; // latin1: one byte per char
  for (let i = 0; i < lines.length; i += 3) {
    if (lines[i + 2] === 1) {
      if (hostLine === undefined) continue; // Host stays as sent
      length += hostLine.length;
    }
    length -= lines[i + 1] - lines[i];
  }
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  let from = 0;
  for (let i = 0; i < lines.length; i += 3) {
    const isHost = lines[i + 2] === 1;
    if (isHost && hostLine === undefined) continue;
    at += bytes.copy(out, at, from, lines[i]);
    if (hostLine !== undefined && isHost) at += out.write(hostLine, at, 'latin1');
    from = lines[i + 1];
  }
  at += bytes.copy(out, at, from, kept);
  out.write(tail, at, 'latin1');
  return out;
}

/** The head built again from its parsed fields (a head the string parser read). */
function rebuildHead(head: RequestHead, route: FastRoute): Buffer {
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
