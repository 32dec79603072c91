import { domainLookupKey } from './domain-name';

/** Hop-by-hop headers (RFC 9110 §7.6.1): meaningful for one connection only, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Returns raw header pairs without hop-by-hop headers (and without any header the
 * Connection header names). Keeps Upgrade/Connection when keepUpgrade is set (101 and
 * upgrade requests need them).
 */
export function withoutHopByHop(rawHeaders: string[], keepUpgrade = false, drop?: ReadonlySet<string>): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length === 10 && rawHeaders[i].toLowerCase() === 'connection') {
      named ??= new Set();
      for (const token of rawHeaders[i + 1].split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const upgradeHeader = name === 'upgrade' || name === 'connection';
    if (keepUpgrade && upgradeHeader) {
      out.push(rawHeaders[i], rawHeaders[i + 1]);
      continue;
    }
    if (HOP_BY_HOP.has(name) || drop?.has(name)) continue;
    if (named?.has(name) && !(keepUpgrade && upgradeHeader)) continue;
    out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return out;
}

/** Serialises a status line and headers, for writing a response onto a raw socket (101 upgrades). */
export function serializeResponseHead(status: number, statusMessage: string, rawHeaders: string[]): string {
  let text = `HTTP/1.1 ${status} ${statusMessage}\r\n`;
  for (let i = 0; i < rawHeaders.length; i += 2) text += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return text + '\r\n';
}

/** Host header value → its name's lookup key (common/domain-name.ts) without the port; '' when unusable. */
export function normalizeHost(value: string | undefined): string {
  if (!value) return '';
  // Only OWS (SP, HTAB) is trimmed, as HTTP parsers trim it: with a no-break space (or other
  // byte trim() takes) left at an edge, the name is unusable, not routed as if it were absent.
  const host = value.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase();
  if (host !== host.trim()) return '';
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(0, end + 1) : '';
  }
  const colon = host.indexOf(':');
  return domainLookupKey(colon >= 0 ? host.slice(0, colon) : host);
}
