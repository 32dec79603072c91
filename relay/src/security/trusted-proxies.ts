/**
 * Who the client really is when the relay sits behind nginx, a Kubernetes ingress or a load balancer.
 *
 * X-Forwarded-For and Forwarded are believed only from peers inside `--trusted-proxies`; from anyone
 * else they are ignored, or a client could name any address and walk through an allow list. Even
 * from a trusted peer, the left part of the header was written by whoever connected to the first
 * proxy, so the chain is read from the right and the first hop we do not trust is the client.
 *
 * Only one header is read, X-Forwarded-For unless configured otherwise: nginx appends to
 * X-Forwarded-For but passes a client's own `Forwarded` through untouched, so reading both would
 * let a client forge whichever one its proxy does not rewrite.
 */
import { formatAddress, IpAddress, normalizeAddress, parseAddress } from '../../../common/net/client-address';
import { InvalidNetworkError, Network } from '../../../common/net/network';

export type ForwardingHeader = 'x-forwarded-for' | 'forwarded';

/** Hops examined from the right; a longer chain of trusted proxies is not a real deployment. */
export const MAX_FORWARDED_HOPS = 32;

/** A bad `--trusted-proxies` entry or option; the relay refuses to start rather than trust too much. */
export class TrustedProxiesError extends Error {
  constructor(
    message: string,
    readonly input: string,
  ) {
    super(message);
    this.name = 'TrustedProxiesError';
  }
}

export class TrustedProxies {
  private readonly networks: readonly Network[];
  readonly header: ForwardingHeader;

  /**
   * @param cidrs addresses or CIDR blocks of the proxies in front of the relay.
   * @param options.header which header those proxies write (default X-Forwarded-For).
   * @throws TrustedProxiesError naming the bad entry.
   */
  constructor(
    cidrs: readonly string[] = [],
    options: { header?: ForwardingHeader } = {},
  ) {
    this.networks = cidrs.map((cidr) => {
      try {
        return Network.parse(cidr);
      } catch (err) {
        if (err instanceof InvalidNetworkError) {
          throw new TrustedProxiesError(`invalid trusted proxy "${cidr}": ${err.message}`, cidr);
        }
        throw err;
      }
    });
    this.header = options.header ?? 'x-forwarded-for';
    if (this.header !== 'x-forwarded-for' && this.header !== 'forwarded') {
      throw new TrustedProxiesError(`unknown forwarding header "${String(this.header)}"`, String(this.header));
    }
  }

  /** From the `--trusted-proxies 10.0.0.0/8,127.0.0.1` flag's text (empty text: trust nobody). */
  static fromList(list: string, options: { header?: ForwardingHeader } = {}): TrustedProxies {
    const items = list.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
    return new TrustedProxies(items, options);
  }

  get isEmpty(): boolean {
    return this.networks.length === 0;
  }

  /** The networks, canonical, for logs and `info`. */
  get cidrs(): string[] {
    return this.networks.map((network) => network.toString());
  }

  /** Whether `addr` (text in any form, or already parsed) is one of the trusted proxies. */
  isTrusted(addr: string | IpAddress): boolean {
    const address = typeof addr === 'string' ? parseAddress(addr) : addr;
    return address !== undefined && this.networks.some((network) => network.contains(address));
  }
}

export interface ClientAddressInput {
  /** The socket's remote address (or the source from a PROXY header that was itself trusted). */
  socketAddress: string;
  /** The X-Forwarded-For header as received (Node joins repeated headers with ", "). */
  xForwardedFor?: string | readonly string[];
  /** The RFC 7239 Forwarded header as received. */
  forwarded?: string | readonly string[];
  trusted: TrustedProxies;
}

/**
 * The real client address, normalised: the socket peer, unless the peer is a trusted proxy; then
 * the right-most address in the forwarding header that is not itself a trusted proxy. An entry that
 * is not an IP address (`unknown`, an obfuscated `_name`, garbage) ends the walk at the last hop we
 * could vouch for, so a bad header can only ever point at a trusted proxy, never at an address of
 * the client's choosing.
 */
export function clientAddressFor(input: ClientAddressInput): string {
  const { socketAddress, trusted } = input;
  const peer = parseAddress(socketAddress);
  if (!peer) return normalizeAddress(socketAddress);
  if (!trusted.isTrusted(peer)) return formatAddress(peer);
  const raw = trusted.header === 'forwarded' ? input.forwarded : input.xForwardedFor;
  const hops = trusted.header === 'forwarded' ? forwardedForValues(joinHeader(raw)) : xForwardedForValues(joinHeader(raw));
  let current = peer;
  for (let i = hops.length - 1; i >= 0 && i >= hops.length - MAX_FORWARDED_HOPS; i--) {
    const hop = parseHopAddress(hops[i]);
    if (!hop) break;
    current = hop;
    if (!trusted.isTrusted(hop)) break;
  }
  return formatAddress(current);
}

/**
 * The X-Forwarded-For value to send on to the agent. `senderAddress` is whoever connected to the
 * relay (the socket peer, or the PROXY header's source). A trusted sender's chain is kept and the
 * sender appended, as every proxy does; an untrusted sender's header is a claim nobody vouched for
 * and is replaced, so the origin never sees a forged chain.
 */
export function forwardedForHeader(
  existing: string | readonly string[] | undefined,
  senderAddress: string,
  senderTrusted: boolean,
): string {
  const sender = normalizeAddress(senderAddress);
  if (!senderTrusted) return sender;
  const prior = joinHeader(existing).trim();
  return prior.length > 0 ? `${prior}, ${sender}` : sender;
}

function joinHeader(value: string | readonly string[] | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : value.join(',');
}

function xForwardedForValues(header: string): string[] {
  if (header.trim().length === 0) return [];
  return header.split(',').map((item) => item.trim());
}

/** The `for=` value of each element of an RFC 7239 header ('' for an element without one). */
export function forwardedForValues(header: string): string[] {
  if (header.trim().length === 0) return [];
  return splitOutsideQuotes(header, ',').map((element) => {
    for (const pair of splitOutsideQuotes(element, ';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      if (pair.slice(0, eq).trim().toLowerCase() === 'for') return unquote(pair.slice(eq + 1).trim());
    }
    return '';
  });
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1).replace(/\\(.)/g, '$1');
  return value;
}

/** One hop: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:80`. */
function parseHopAddress(text: string): IpAddress | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    const after = text.slice(close + 1);
    if (after.length > 0 && !/^:\d{1,5}$/.test(after)) return undefined;
    return parseAddress(text.slice(1, close));
  }
  const colon = text.indexOf(':');
  if (colon >= 0 && colon === text.lastIndexOf(':') && text.includes('.')) {
    if (!/^\d{1,5}$/.test(text.slice(colon + 1))) return undefined;
    return parseAddress(text.slice(0, colon));
  }
  return parseAddress(text);
}
