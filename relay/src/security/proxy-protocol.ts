/**
 * PROXY protocol (HAProxy, v1 text and v2 binary): a load balancer in front of the relay states the
 * real client address in a header before the connection's first byte. Only read from connections
 * whose peer is a trusted proxy; anyone else could state any address they like.
 *
 * The reader is incremental (the header may arrive split across TCP segments, even byte by byte),
 * keeps at most one header's worth of bytes, never allocates what a header claims before checking
 * the claim against a cap, and reports every malformed input as a result, never by throwing.
 * Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
 */
import ipaddr from 'ipaddr.js';
import { formatAddress, parseAddress } from '../../../common/net/client-address';

/** v1: the longest line the spec allows, CRLF included. */
export const PROXY_V1_MAX_LENGTH = 107;
/** v2: the whole header (16 fixed bytes, addresses, TLVs). Proxies send far less; the format allows 64 KiB. */
export const PROXY_V2_MAX_LENGTH = 1024;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_LENGTH = 16;
const EMPTY = Buffer.alloc(0);

const enum V2Command {
  Local = 0x0,
  Proxy = 0x1,
}
const enum V2Family {
  Unspec = 0x0,
  Inet = 0x1,
  Inet6 = 0x2,
  Unix = 0x3,
}
const enum V2Transport {
  Unspec = 0x0,
  Stream = 0x1,
  Dgram = 0x2,
}
/** Address block sizes per family (src + dst addresses, then ports for INET/INET6). */
const V2_ADDRESS_LENGTH: Record<V2Family, number> = { 0: 0, 1: 12, 2: 36, 3: 216 };

export interface ProxyEndpoint {
  /** Normalised: IPv4-mapped IPv6 folded to IPv4. */
  address: string;
  port: number;
}

export type ProxyHeaderResult =
  | { status: 'need-more' }
  | {
      status: 'done';
      version: 1 | 2;
      /**
       * The client as the proxy saw it. Absent for LOCAL (a health check by the proxy itself),
       * `UNKNOWN` and non-IP families: use the socket's own peer address then.
       */
      source?: ProxyEndpoint;
      destination?: ProxyEndpoint;
      /** Bytes after the header: the start of the proxied stream. */
      rest: Buffer;
    }
  | { status: 'error'; message: string };

type ParseResult =
  | { status: 'need-more' }
  | { status: 'error'; message: string }
  | { status: 'header'; version: 1 | 2; length: number; source?: ProxyEndpoint; destination?: ProxyEndpoint };

export class ProxyHeaderReader {
  private pending: Buffer = EMPTY;
  private final?: ProxyHeaderResult;

  /** Feed the next chunk from the socket; call again on 'need-more', stop on 'done' or 'error'. */
  push(chunk: Buffer): ProxyHeaderResult {
    if (this.final) {
      return this.final.status === 'error' ? this.final : { status: 'error', message: 'PROXY header already read' };
    }
    if (!Buffer.isBuffer(chunk)) return this.finish({ status: 'error', message: 'PROXY reader needs bytes' });
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let parsed: ParseResult;
    try {
      parsed = parseHeader(data);
    } catch (err) {
      // parseHeader checks every length before reading; this is a last line of defence, not a path.
      parsed = { status: 'error', message: `malformed PROXY header (${(err as Error).message})` };
    }
    if (parsed.status === 'need-more') {
      // A copy: holding a view would pin the socket's whole (much larger) read buffer.
      this.pending = Buffer.from(data);
      return parsed;
    }
    this.pending = EMPTY;
    if (parsed.status === 'error') return this.finish(parsed);
    const { version, source, destination, length } = parsed;
    return this.finish({ status: 'done', version, source, destination, rest: data.subarray(length) });
  }

  private finish(result: ProxyHeaderResult): ProxyHeaderResult {
    this.final = result.status === 'done' ? { ...result, rest: EMPTY } : result;
    return result;
  }
}

function parseHeader(data: Buffer): ParseResult {
  if (data.length === 0) return { status: 'need-more' };
  if (data[0] === V2_SIGNATURE[0]) return parseV2(data);
  if (data[0] === V1_PREFIX[0]) return parseV1(data);
  return notProxy();
}

function notProxy(): ParseResult {
  return { status: 'error', message: 'not a PROXY protocol header' };
}

function startsWithPartial(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(data: Buffer): ParseResult {
  if (!startsWithPartial(data, V1_PREFIX)) return notProxy();
  const scan = Math.min(data.length, PROXY_V1_MAX_LENGTH);
  for (let i = 0; i < scan; i++) {
    const byte = data[i];
    if (byte === 0x0a) {
      if (i === 0 || data[i - 1] !== 0x0d) return { status: 'error', message: 'PROXY v1 line must end with CRLF' };
      return parseV1Line(data.toString('latin1', 0, i - 1), i + 1);
    }
    const crBeforeLf = byte === 0x0d && (i + 1 === data.length || data[i + 1] === 0x0a);
    if ((byte < 0x20 || byte > 0x7e) && !crBeforeLf) {
      return { status: 'error', message: 'PROXY v1 header contains a control or non-ASCII byte' };
    }
  }
  if (data.length >= PROXY_V1_MAX_LENGTH) {
    return { status: 'error', message: `PROXY v1 header longer than ${PROXY_V1_MAX_LENGTH} bytes` };
  }
  return { status: 'need-more' };
}

function parseV1Line(line: string, length: number): ParseResult {
  const parts = line.split(' ');
  const protocol = parts[1];
  // UNKNOWN: the proxy could not tell (the spec lets it append anything after); use the socket peer.
  if (protocol === 'UNKNOWN') return { status: 'header', version: 1, length };
  if (protocol !== 'TCP4' && protocol !== 'TCP6') {
    return { status: 'error', message: `PROXY v1 protocol must be TCP4, TCP6 or UNKNOWN, not "${protocol.slice(0, 16)}"` };
  }
  if (parts.length !== 6) return { status: 'error', message: 'PROXY v1 header must have source, destination and two ports' };
  const [, , srcText, dstText, srcPort, dstPort] = parts;
  const family = protocol === 'TCP4' ? 'ipv4' : 'ipv6';
  const source = v1Endpoint(srcText, srcPort, family);
  const destination = v1Endpoint(dstText, dstPort, family);
  if (!source || !destination) return { status: 'error', message: `PROXY v1 ${protocol} addresses or ports are invalid` };
  return { status: 'header', version: 1, length, source, destination };
}

function v1Endpoint(addressText: string, portText: string, family: 'ipv4' | 'ipv6'): ProxyEndpoint | undefined {
  // The family is decided by the text: TCP4 takes a dotted quad, TCP6 an IPv6 literal (mapped is fine).
  if ((family === 'ipv6') !== addressText.includes(':')) return undefined;
  const address = parseAddress(addressText);
  if (!address || addressText.includes('%')) return undefined;
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  return { address: formatAddress(address), port };
}

function parseV2(data: Buffer): ParseResult {
  if (!startsWithPartial(data, V2_SIGNATURE)) return notProxy();
  if (data.length < V2_FIXED_LENGTH) return { status: 'need-more' };
  const versionCommand = data[12];
  if (versionCommand >> 4 !== 2) return { status: 'error', message: `PROXY v2 version must be 2, not ${versionCommand >> 4}` };
  const command = versionCommand & 0x0f;
  if (command !== V2Command.Local && command !== V2Command.Proxy) {
    return { status: 'error', message: `PROXY v2 command ${command} is unknown` };
  }
  const family = (data[13] >> 4) as V2Family;
  const transport = (data[13] & 0x0f) as V2Transport;
  if (family > V2Family.Unix || transport > V2Transport.Dgram) {
    return { status: 'error', message: `PROXY v2 address family byte 0x${data[13].toString(16)} is unknown` };
  }
  const bodyLength = data.readUInt16BE(14);
  const length = V2_FIXED_LENGTH + bodyLength;
  // Checked before waiting for (and so buffering) the body.
  if (length > PROXY_V2_MAX_LENGTH) {
    return { status: 'error', message: `PROXY v2 header claims ${length} bytes; at most ${PROXY_V2_MAX_LENGTH} are accepted` };
  }
  if (bodyLength < V2_ADDRESS_LENGTH[family]) {
    return { status: 'error', message: `PROXY v2 header too short for its address family (${bodyLength} bytes)` };
  }
  if (data.length < length) return { status: 'need-more' };
  // LOCAL: the proxy's own connection (health check); addresses, if any, must be ignored.
  if (command === V2Command.Local) return { status: 'header', version: 2, length };
  if (transport === V2Transport.Dgram) return { status: 'error', message: 'PROXY v2 DGRAM header on a stream connection' };
  if (transport === V2Transport.Unspec || family === V2Family.Unspec || family === V2Family.Unix) {
    return { status: 'header', version: 2, length };
  }
  const body = data.subarray(V2_FIXED_LENGTH, length);
  const size = family === V2Family.Inet ? 4 : 16;
  const source = v2Endpoint(body.subarray(0, size), body.readUInt16BE(2 * size));
  const destination = v2Endpoint(body.subarray(size, 2 * size), body.readUInt16BE(2 * size + 2));
  return { status: 'header', version: 2, length, source, destination };
}

function v2Endpoint(bytes: Buffer, port: number): ProxyEndpoint {
  return { address: formatAddress(foldMapped(ipaddr.fromByteArray([...bytes]))), port };
}

function foldMapped(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}
