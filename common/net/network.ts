/**
 * An IP network (a single address or a CIDR block), parsed once and matched by bytes, so the
 * per-request check is a few byte comparisons. Shared by the firewall and the trusted-proxy list.
 */
import ipaddr from 'ipaddr.js';
import { formatAddress, IpAddress, parseAddress } from './client-address';

export class InvalidNetworkError extends Error {
  constructor(
    message: string,
    readonly input: string,
  ) {
    super(message);
    this.name = 'InvalidNetworkError';
  }
}

/** Rule text longer than this is refused before it is looked at. */
const MAX_NETWORK_TEXT = 128;
const PREFIX_DIGITS = /^(?:0|[1-9]\d{0,2})$/;

export class Network {
  private constructor(
    readonly kind: 'ipv4' | 'ipv6',
    /** Network address bytes (4 or 16), host bits zero. */
    private readonly bytes: readonly number[],
    readonly prefix: number,
  ) {}

  /**
   * Parses `1.2.3.4`, `10.0.0.0/8`, `2001:db8::1`, `2001:db8::/32`. A network inside
   * `::ffff:0:0/96` becomes the IPv4 network it maps, since clients are normalised the same way.
   * Host bits set (`10.0.0.1/8`) are refused: the author meant either the host or the network.
   */
  static parse(input: string): Network {
    if (typeof input !== 'string') throw new InvalidNetworkError('a network must be text', String(input));
    const text = input.trim();
    if (text.length === 0) throw new InvalidNetworkError('empty network', input);
    if (text.length > MAX_NETWORK_TEXT) throw new InvalidNetworkError('network text is too long', input.slice(0, 40) + '…');
    const slash = text.indexOf('/');
    const addressText = slash < 0 ? text : text.slice(0, slash);
    const address = parseAddressKeepingMapped(addressText);
    if (!address) throw new InvalidNetworkError(`"${addressText}" is not an IPv4 or IPv6 address`, input);
    const bits = address.kind() === 'ipv4' ? 32 : 128;
    let prefix = bits;
    if (slash >= 0) {
      const prefixText = text.slice(slash + 1);
      if (!PREFIX_DIGITS.test(prefixText) || Number(prefixText) > bits) {
        throw new InvalidNetworkError(`"${prefixText}" is not a prefix length from 0 to ${bits}`, input);
      }
      prefix = Number(prefixText);
    }
    let kind = address.kind();
    let bytes = address.toByteArray();
    if (kind === 'ipv6' && prefix >= 96 && isMappedPrefix(bytes)) {
      kind = 'ipv4';
      bytes = bytes.slice(12);
      prefix -= 96;
    }
    const network = new Network(kind, maskBytes(bytes, prefix), prefix);
    if (!sameBytes(network.bytes, bytes)) {
      throw new InvalidNetworkError(`"${text}" has host bits set; did you mean ${network.toString()}?`, input);
    }
    return network;
  }

  /** True when `address` (already parsed and normalised) lies inside this network. */
  contains(address: IpAddress): boolean {
    if (address.kind() !== this.kind) return false;
    return prefixMatches(address.toByteArray(), this.bytes, this.prefix);
  }

  /** As `contains`, for callers that already hold the address bytes (the firewall's hot path). */
  containsBytes(kind: 'ipv4' | 'ipv6', bytes: readonly number[]): boolean {
    return kind === this.kind && prefixMatches(bytes, this.bytes, this.prefix);
  }

  /** Canonical text: a bare address for a host network, `address/prefix` otherwise. */
  toString(): string {
    const address = formatAddress(ipaddr.fromByteArray([...this.bytes]));
    return this.prefix === this.bytes.length * 8 ? address : `${address}/${this.prefix}`;
  }
}

/** `::ffff:0:0/96` must stay IPv6 text until the prefix is known, so parse without folding. */
function parseAddressKeepingMapped(text: string): IpAddress | undefined {
  const parsed = parseAddress(text);
  if (parsed instanceof ipaddr.IPv4 && text.includes(':')) return parsed.toIPv4MappedAddress();
  return parsed;
}

function isMappedPrefix(bytes: readonly number[]): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function maskBytes(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
}

function prefixMatches(address: readonly number[], network: readonly number[], prefix: number): boolean {
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== network[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[whole] & mask) === network[whole];
}

function sameBytes(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
