/**
 * Reads just enough of a TLS connection to learn the SNI server name, so the
 * relay can route (or pass through) a connection whose TLS it does not terminate.
 *
 * The reader is incremental: a ClientHello may arrive one byte per TCP segment and
 * may be fragmented over several TLS records. Every length in the input is checked
 * against what was actually received and against fixed caps before it is used; no
 * buffer is ever sized by a number the peer sent, and no input makes push() throw.
 */
import type { Socket } from 'node:net';
import { canonicalServerName } from '../../../common/domain-name';

/** TLS plaintext record payload limit (RFC 8446 §5.1). */
export const MAX_RECORD_PAYLOAD = 16 * 1024;
/** Largest ClientHello message accepted (today's, even with post-quantum key shares, are < 2 KiB). */
export const MAX_CLIENT_HELLO = 16 * 1024;
/** Raw bytes consumed before giving up: one full ClientHello plus headers of a few records. */
export const MAX_BUFFERED_BYTES = MAX_CLIENT_HELLO + 2 * 1024;

const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const CONTENT_TYPE_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXTENSION_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST_NAME = 0x00;

export type ClientHelloResult =
  | { status: 'need-more' }
  | { status: 'done'; serverName: string | undefined }
  | { status: 'error'; message: string };

/** Thrown inside the parser only; push() turns it into an error result. */
class Malformed extends Error {}

export class ClientHelloReader {
  private readonly recordHeader = Buffer.alloc(RECORD_HEADER);
  private headerFilled = 0;
  private recordRemaining = 0;
  /** Handshake-layer bytes so far, as views into the pushed chunks (no copy until complete). */
  private readonly fragments: Buffer[] = [];
  private handshakeBytes = 0;
  private messageLength: number | undefined;
  private consumed = 0;
  private result: ClientHelloResult | undefined;

  /** Feeds the next bytes from the connection. Once done or error, the result is final. */
  push(chunk: Buffer): ClientHelloResult {
    if (this.result) return this.result;
    try {
      this.result = this.consume(chunk);
    } catch (err) {
      this.result = { status: 'error', message: err instanceof Malformed ? err.message : `unexpected: ${String(err)}` };
    }
    return this.result ?? { status: 'need-more' };
  }

  private consume(chunk: Buffer): ClientHelloResult | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.headerFilled < RECORD_HEADER) {
        const n = Math.min(RECORD_HEADER - this.headerFilled, chunk.length - offset);
        chunk.copy(this.recordHeader, this.headerFilled, offset, offset + n);
        this.headerFilled += n;
        offset += n;
        this.consumed += n;
        // Judge the content type from its first byte, so plain HTTP fails at once.
        if (this.recordHeader[0] !== CONTENT_TYPE_HANDSHAKE) {
          throw new Malformed(this.consumed === n && this.fragments.length === 0
            ? 'not a TLS handshake (first byte is not 0x16)'
            : 'non-handshake record before the ClientHello was complete');
        }
        if (this.headerFilled === RECORD_HEADER) this.startRecord();
        continue;
      }
      const n = Math.min(this.recordRemaining, chunk.length - offset);
      this.fragments.push(chunk.subarray(offset, offset + n));
      this.handshakeBytes += n;
      this.recordRemaining -= n;
      this.consumed += n;
      offset += n;
      if (this.consumed > MAX_BUFFERED_BYTES) throw new Malformed(`ClientHello exceeds ${MAX_BUFFERED_BYTES} bytes`);
      if (this.recordRemaining === 0) this.headerFilled = 0;
      const done = this.tryFinish();
      if (done) return done; // anything after the ClientHello (e.g. 0-RTT data) is not ours to read
    }
    return undefined;
  }

  private startRecord(): void {
    const major = this.recordHeader[1];
    const minor = this.recordHeader[2];
    // Record versions 3.0 (SSL 3, some old hellos) through 3.4; SSLv2 hellos are refused.
    if (major !== 3 || minor > 4) throw new Malformed(`unexpected record version ${major}.${minor}`);
    const length = this.recordHeader.readUInt16BE(3);
    if (length === 0) throw new Malformed('empty handshake record');
    if (length > MAX_RECORD_PAYLOAD) throw new Malformed(`record length ${length} exceeds ${MAX_RECORD_PAYLOAD}`);
    this.recordRemaining = length;
  }

  private tryFinish(): ClientHelloResult | undefined {
    if (this.messageLength === undefined) {
      if (this.handshakeBytes < HANDSHAKE_HEADER) return undefined;
      const header = this.handshakePrefix(HANDSHAKE_HEADER);
      if (header[0] !== HANDSHAKE_CLIENT_HELLO) throw new Malformed(`first handshake message is type ${header[0]}, not ClientHello`);
      const length = header.readUIntBE(1, 3);
      if (length > MAX_CLIENT_HELLO - HANDSHAKE_HEADER) throw new Malformed(`ClientHello length ${length} exceeds ${MAX_CLIENT_HELLO}`);
      this.messageLength = length;
    }
    const total = HANDSHAKE_HEADER + this.messageLength;
    if (this.handshakeBytes < total) return undefined;
    // Bounded by MAX_CLIENT_HELLO, checked above.
    const message = this.handshakePrefix(total).subarray(HANDSHAKE_HEADER);
    return { status: 'done', serverName: parseClientHelloBody(message) };
  }

  /** The first n handshake bytes, gathered from the fragments (n <= handshakeBytes). */
  private handshakePrefix(n: number): Buffer {
    return Buffer.concat(this.fragments, this.handshakeBytes).subarray(0, n);
  }
}

/** A bounds-checked reader over one buffer. */
class Cursor {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }
  u8(what: string): number {
    return this.bytes(1, what)[0];
  }
  u16(what: string): number {
    return this.bytes(2, what).readUInt16BE(0);
  }
  bytes(n: number, what: string): Buffer {
    if (n > this.remaining) throw new Malformed(`truncated ${what}`);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
}

/** Parses a ClientHello body (after the handshake header); returns the host_name if any. */
function parseClientHelloBody(body: Buffer): string | undefined {
  const c = new Cursor(body);
  c.bytes(2, 'legacy_version');
  c.bytes(32, 'random');
  const sessionIdLength = c.u8('session_id length');
  if (sessionIdLength > 32) throw new Malformed('session_id longer than 32 bytes');
  c.bytes(sessionIdLength, 'session_id');
  const suitesLength = c.u16('cipher_suites length');
  if (suitesLength < 2 || suitesLength % 2 !== 0) throw new Malformed('bad cipher_suites length');
  c.bytes(suitesLength, 'cipher_suites');
  const compressionLength = c.u8('compression_methods length');
  if (compressionLength < 1) throw new Malformed('no compression methods');
  c.bytes(compressionLength, 'compression_methods');
  if (c.remaining === 0) return undefined; // a hello without extensions (SSL 3 / TLS 1.0 era)

  const extensionsLength = c.u16('extensions length');
  if (extensionsLength !== c.remaining) throw new Malformed('extensions length does not match the ClientHello');
  let serverName: string | undefined;
  let sawServerNameExtension = false;
  while (c.remaining > 0) {
    const type = c.u16('extension type');
    const data = c.bytes(c.u16('extension length'), 'extension data');
    if (type !== EXTENSION_SERVER_NAME) continue;
    if (sawServerNameExtension) throw new Malformed('duplicate server_name extension');
    sawServerNameExtension = true;
    serverName = parseServerNameExtension(data);
  }
  return serverName;
}

function parseServerNameExtension(data: Buffer): string | undefined {
  const c = new Cursor(data);
  const listLength = c.u16('server_name_list length');
  if (listLength !== c.remaining || listLength === 0) throw new Malformed('bad server_name_list length');
  let hostName: string | undefined;
  while (c.remaining > 0) {
    const nameType = c.u8('server name type');
    const name = c.bytes(c.u16('server name length'), 'server name');
    if (nameType !== NAME_TYPE_HOST_NAME) continue; // other name types are not defined; skip them
    if (hostName !== undefined) throw new Malformed('more than one host_name');
    hostName = normalizeHostName(name);
  }
  return hostName;
}

/** The canonical form routes are keyed by (common/domain-name.ts), ASCII only. */
function normalizeHostName(raw: Buffer): string {
  if (raw.length === 0 || raw.length > 254) throw new Malformed('server name has a bad length');
  try {
    return canonicalServerName(raw.toString('latin1'));
  } catch {
    throw new Malformed('server name is not a valid DNS name');
  }
}

/** Why readServerNameFromSocket gave up; `buffered` holds what was read anyway. */
export class ClientHelloError extends Error {
  constructor(
    readonly reason: 'invalid' | 'timeout' | 'closed' | 'socket',
    message: string,
    readonly buffered: Buffer,
  ) {
    super(message);
    this.name = 'ClientHelloError';
  }
}

export interface ServerNamePeek {
  serverName: string | undefined;
  /** Every byte read from the socket so far, to be written to the destination first. */
  buffered: Buffer;
}

/**
 * Reads from a socket until its ClientHello is complete. On success the socket is
 * left paused with none of our listeners, so the caller writes `buffered` to the
 * destination and then pipes the socket (which resumes it) without losing a byte.
 * On rejection (ClientHelloError) the socket is left open: the caller destroys it,
 * or answers first (e.g. a hint that plain HTTP reached the TLS port).
 */
export function readServerNameFromSocket(socket: Socket, timeoutMs: number): Promise<ServerNamePeek> {
  return new Promise((resolve, reject) => {
    const reader = new ClientHelloReader();
    const chunks: Buffer[] = [];
    const buffered = () => Buffer.concat(chunks);

    const settle = (outcome: { peek: ServerNamePeek } | { error: ClientHelloError }) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onClosed);
      socket.off('close', onClosed);
      socket.off('error', onError);
      socket.pause();
      if ('peek' in outcome) resolve(outcome.peek);
      else reject(outcome.error);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      const result = reader.push(chunk);
      if (result.status === 'done') settle({ peek: { serverName: result.serverName, buffered: buffered() } });
      else if (result.status === 'error') settle({ error: new ClientHelloError('invalid', result.message, buffered()) });
    };
    const onClosed = () =>
      settle({ error: new ClientHelloError('closed', 'connection closed before the ClientHello was complete', buffered()) });
    const onError = (err: Error) => settle({ error: new ClientHelloError('socket', err.message, buffered()) });
    const timer = setTimeout(
      () => settle({ error: new ClientHelloError('timeout', `no complete ClientHello within ${timeoutMs} ms`, buffered()) }),
      timeoutMs,
    );

    if (socket.destroyed || socket.readableEnded) return onClosed();
    socket.on('data', onData);
    socket.once('end', onClosed);
    socket.once('close', onClosed);
    socket.once('error', onError);
    socket.resume(); // in case the caller paused it; a 'data' listener alone would not restart it
  });
}
