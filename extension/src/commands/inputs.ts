/** Parsing and validation of what users type in Portway's pickers and input boxes. No `vscode` import. */
import { InvalidNetworkError, Network } from '../../../common/net/network';
import type { ListeningPort } from '../../../protocol/rpc';

const WILDCARDS = new Set(['0.0.0.0', '::']);

/**
 * The destination to ask for when sharing a port bound to these addresses: none (the agent finds
 * the loopback that listens, 127.0.0.1 or ::1) when one of them is a wildcard or a standard
 * loopback, else the address the server actually listens on (127.0.0.2, a LAN address).
 */
export function destinationFor(addresses: string[]): string | undefined {
  if (addresses.some((a) => WILDCARDS.has(a) || a === '127.0.0.1' || a === '::1')) return undefined;
  return addresses[0];
}

/** One pick item per port: addresses and owning process joined. Exported for tests. */
export function portItems(ports: ListeningPort[]): { port: number; label: string; description: string; destination?: string }[] {
  const byPort = new Map<number, ListeningPort[]>();
  for (const p of ports) byPort.set(p.port, [...(byPort.get(p.port) ?? []), p]);
  return [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, entries]) => {
      const names = [...new Set(entries.map((e) => (e.process ? `${e.process}${e.pid ? ` (pid ${e.pid})` : ''}` : undefined)).filter(Boolean))];
      const addresses = [...new Set(entries.map((e) => e.address))];
      const destination = destinationFor(addresses);
      return { port, label: String(port), description: [names.join(', ') || 'unknown process', addresses.join(', ')].join(' · '), ...(destination ? { destination } : {}) };
    });
}

export function parsePort(text: string): number | undefined {
  const t = text.trim().replace(/^:/, '');
  if (!/^\d{1,5}$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * What the Share Port picker's filter holds: a port to share, a number that is not one (said
 * inline, so Enter does nothing rather than pick another row), or text that only filters.
 */
export function typedPort(text: string): { port: number } | { error: string } | undefined {
  const t = text.trim().replace(/^:/, '');
  if (!/^\d+$/.test(t)) return undefined;
  const port = parsePort(t);
  return port === undefined ? { error: `${t} is not a port: enter a number from 1 to 65535` } : { port };
}

export function validateSubdomain(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  if (v === '') return undefined;
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(v)) return 'Use letters, digits and hyphens (not at the start or end), at most 63 characters';
  return undefined;
}

/** An address or CIDR network, checked by the very parser the agent and the relay use (host bits, prefix, octets). */
export function validateNetwork(value: string): string | undefined {
  const v = value.trim();
  if (!v) return 'Enter an IP address or network, e.g. 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32';
  try {
    Network.parse(v);
    return undefined;
  } catch (err) {
    if (err instanceof InvalidNetworkError) return `${err.message} (e.g. 203.0.113.7 or 10.0.0.0/8)`;
    throw err;
  }
}

/** Accepts http(s)/ws(s) URLs and bare host[:port]; the agent checks it for real. */
export function validateRelayUrl(value: string): string | undefined {
  const text = value.trim();
  if (!text) return 'Enter the URL of your Portway relay, e.g. https://relay.example.com';
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `https://${text}`;
  try {
    const url = new URL(withScheme);
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return 'Use an http, https, ws or wss URL';
    if (!url.hostname) return 'The URL needs a host name';
  } catch {
    return 'That is not a valid URL';
  }
  return undefined;
}

/** "3000", "127.0.0.2:3000", "[::1]:3000" → where a route or TCP port forwards; undefined when unreadable. */
export function parseDestination(text: string): { destination?: string; port: number } | undefined {
  const t = text.trim();
  const port = parsePort(t);
  if (port !== undefined) return { port };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(t);
  const host = m?.[1] ?? m?.[2];
  const hostPort = m ? parsePort(m[3]) : undefined;
  return host && hostPort !== undefined ? { destination: host, port: hostPort } : undefined;
}

export function validateDestination(text: string): string | undefined {
  return parseDestination(text) ? undefined : 'Enter a port (3000) or address:port (127.0.0.2:3000, [::1]:3000)';
}
