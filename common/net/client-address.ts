/**
 * Client addresses as the firewall and the logs see them.
 *
 * A dual-stack listener reports IPv4 clients as IPv4-mapped IPv6 (`::ffff:1.2.3.4`); unless that is
 * folded back to `1.2.3.4`, an IPv4 firewall rule silently misses them. Addresses that arrive as
 * text from the network (X-Forwarded-For, Forwarded, PROXY v1) are parsed strictly: ipaddr.js on
 * its own also accepts `0x7f.1`, `127.1` and `010.0.0.1`, forms a proxy never writes and an
 * attacker might use to slip past a rule.
 */
import ipaddr from 'ipaddr.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** Longer than any textual IPv6 address with an IPv4 tail and a zone; anything longer is refused unparsed. */
const MAX_ADDRESS_TEXT = 64;
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** Dotted-quad with no leading zeros, no hex, no short forms. */
const STRICT_IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/**
 * Parses `text` as one IPv4 or IPv6 address, strictly. IPv4-mapped IPv6 comes back as IPv4; an IPv6
 * zone (`%eth0`) is dropped. Returns undefined for anything else (never throws).
 */
export function parseAddress(text: string): IpAddress | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_ADDRESS_TEXT) return undefined;
  if (STRICT_IPV4.test(text)) return ipaddr.IPv4.parse(text);
  if (!text.includes(':')) return undefined;
  const zone = text.indexOf('%');
  const bare = zone >= 0 ? text.slice(0, zone) : text;
  if (!ipaddr.IPv6.isValid(bare)) return undefined;
  // ipaddr.js accepts lax IPv4 forms in an embedded IPv4 tail too (`::ffff:01.2.3.4`).
  if (bare.includes('.') && !STRICT_IPV4.test(bare.slice(bare.lastIndexOf(':') + 1))) return undefined;
  const v6 = ipaddr.IPv6.parse(bare);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/** Canonical text: dotted-quad for IPv4, RFC 5952 (lower-case, compressed) for IPv6. */
export function formatAddress(address: IpAddress): string {
  return address.kind() === 'ipv4' ? address.toString() : (address as ipaddr.IPv6).toRFC5952String();
}

/**
 * Canonical form of a socket or header address: `::ffff:1.2.3.4` → `1.2.3.4`, IPv6 lower-cased and
 * compressed, zone stripped. Text that is not an address is returned unchanged (so a caller logging
 * it sees what arrived); the firewall refuses such text whenever it has rules.
 */
export function normalizeAddress(addr: string): string {
  const parsed = parseAddress(addr);
  return parsed ? formatAddress(parsed) : addr;
}
