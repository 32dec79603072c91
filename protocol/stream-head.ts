/**
 * What a stream carries before its raw bytes. The relay opens every stream and first
 * writes a StreamOpen head; on HTTP streams the agent answers with a ResponseHead.
 * Each head is a 4-byte big-endian length followed by that many bytes of JSON.
 * After the heads, the stream carries the body (HTTP, de-chunked) or raw bytes (TCP, TLS, upgrades).
 */

/** Heads larger than this are refused before they are buffered. */
export const MAX_HEAD_SIZE = 64 * 1024;

/** A public HTTP request forwarded to the agent. The body follows on the stream. */
export interface HttpOpen {
  kind: 'http';
  method: string;
  /** Origin-form request target, e.g. "/path?q=1". */
  url: string;
  /** Alternating names and values, as Node's rawHeaders; includes X-Forwarded-* set by the relay. */
  rawHeaders: string[];
  /** Lower-cased Host the request was routed by, without port or trailing dot. */
  host: string;
  /** Scheme the client used to reach the relay. */
  proto: 'http' | 'https';
  remoteAddress: string;
  remotePort: number;
  /** True for an Upgrade request (e.g. WebSocket): after the 101 head, bytes flow raw both ways. */
  upgrade: boolean;
  /** False when no request body follows (the stream's FIN comes right after the head). */
  hasBody: boolean;
}

/**
 * A visitor's HTTP connection on the relay's fast path: raw HTTP/1.1 bytes (heads already
 * checked and rewritten by the relay) for a proxy route; the agent pipes them to one
 * connection to the route's destination and pipes the answers back untouched.
 */
export interface HttpRawOpen {
  kind: 'http-raw';
  host: string;
  proto: 'http' | 'https';
  remoteAddress: string;
  remotePort: number;
}

/** A raw TCP connection to an allocated port. */
export interface TcpOpen {
  kind: 'tcp';
  port: number;
  remoteAddress: string;
  remotePort: number;
}

/** A TLS connection passed through by SNI; the agent (or its destination) terminates TLS. */
export interface TlsOpen {
  kind: 'tls';
  serverName: string;
  remoteAddress: string;
  remotePort: number;
}

export type StreamOpen = HttpOpen | HttpRawOpen | TcpOpen | TlsOpen;

/** The agent's answer on an HTTP stream. The body (or raw upgrade bytes) follows. */
export interface ResponseHead {
  status: number;
  statusMessage?: string;
  rawHeaders: string[];
}

export class HeadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeadError';
  }
}

export function encodeHead(head: StreamOpen | ResponseHead): Buffer {
  const json = Buffer.from(JSON.stringify(head));
  if (json.length > MAX_HEAD_SIZE) throw new HeadError(`head of ${json.length} bytes exceeds ${MAX_HEAD_SIZE}`);
  const out = Buffer.allocUnsafe(4 + json.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  return out;
}

/**
 * Incremental head reader: feed chunks until it returns the head; `rest` holds the
 * bytes after it (the beginning of the body). Claimed sizes over MAX_HEAD_SIZE are
 * refused before buffering.
 */
export class HeadReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): { json: unknown; rest: Buffer } | undefined {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < 4) return undefined;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [all];
    const size = all.readUInt32BE(0);
    if (size > MAX_HEAD_SIZE) throw new HeadError(`head of ${size} bytes exceeds ${MAX_HEAD_SIZE}`);
    if (all.length < 4 + size) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(all.toString('utf8', 4, 4 + size));
    } catch {
      throw new HeadError('head is not JSON');
    }
    this.chunks = [];
    this.buffered = 0;
    return { json, rest: all.subarray(4 + size) };
  }
}

function isStringArray(v: unknown, max: number): v is string[] {
  return Array.isArray(v) && v.length <= max && v.length % 2 === 0 && v.every((s) => typeof s === 'string');
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
}

/** Validates a StreamOpen received from the relay. */
export function validateStreamOpen(json: unknown): StreamOpen {
  const o = json as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) throw new HeadError('stream head is not an object');
  const addr = typeof o.remoteAddress === 'string' && isPort(o.remotePort);
  if (o.kind === 'http') {
    if (
      typeof o.method === 'string' &&
      typeof o.url === 'string' &&
      typeof o.host === 'string' &&
      (o.proto === 'http' || o.proto === 'https') &&
      typeof o.upgrade === 'boolean' &&
      typeof o.hasBody === 'boolean' &&
      isStringArray(o.rawHeaders, 2000) &&
      addr
    ) {
      return o as unknown as HttpOpen;
    }
  } else if (o.kind === 'http-raw') {
    if (typeof o.host === 'string' && (o.proto === 'http' || o.proto === 'https') && addr) return o as unknown as HttpRawOpen;
  } else if (o.kind === 'tcp') {
    if (isPort(o.port) && addr) return o as unknown as TcpOpen;
  } else if (o.kind === 'tls') {
    if (typeof o.serverName === 'string' && addr) return o as unknown as TlsOpen;
  }
  throw new HeadError(`malformed stream head of kind ${JSON.stringify(o.kind)}`);
}

/** Validates a ResponseHead received from the agent. */
export function validateResponseHead(json: unknown): ResponseHead {
  const o = json as Record<string, unknown>;
  if (
    typeof o === 'object' &&
    o !== null &&
    typeof o.status === 'number' &&
    Number.isInteger(o.status) &&
    o.status >= 100 &&
    o.status <= 999 &&
    (o.statusMessage === undefined || typeof o.statusMessage === 'string') &&
    isStringArray(o.rawHeaders, 2000)
  ) {
    return o as unknown as ResponseHead;
  }
  throw new HeadError('malformed response head');
}
