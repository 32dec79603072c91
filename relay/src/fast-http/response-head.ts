import type { Framing } from './body-framing';

/**
 * Reads the status line and headers of a response coming back from an agent's origin,
 * only to learn how its body is framed (the bytes themselves are forwarded untouched).
 * It runs for every response on the fast path, so it reads bytes in place: a string is
 * made only of the values of the three headers that matter.
 *
 * The bytes go to the visitor unchanged, maybe through a proxy in front of the relay that reads
 * them again: a head two readers could frame differently is refused (the visitor gets a 502), as
 * Node's parser refuses it. So the head is strict: CRLF line ends only, `HTTP/1.x NNN reason`,
 * `token:value` lines (no whitespace before the colon, no obs-fold), no controls but HTAB in
 * values and the reason, at most one Content-Length and never both Content-Length and
 * Transfer-Encoding (RFC 9112 §6.3). Only SP and HTAB (OWS) are trimmed from values.
 */
export const MAX_RESPONSE_HEAD = 64 * 1024;

export interface ResponseHead {
  status: number;
  framing: Framing;
  /** The origin asked to close the connection after this response. */
  close: boolean;
  size: number;
}

export type ResponseHeadResult = { status: 'need-more' } | { status: 'done'; head: ResponseHead } | { status: 'error'; reason: string };

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;
const HTTP_1 = 'HTTP/1.';
const NEED_MORE: ResponseHeadResult = { status: 'need-more' };
const NO_BODY: Framing = { kind: 'none' };
const CHUNKED: Framing = { kind: 'chunked' };
const UNTIL_CLOSE: Framing = { kind: 'until-close' };
const error = (reason: string): ResponseHeadResult => ({ status: 'error', reason });

function byteTable(allowed: (byte: number) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let b = 0; b < 256; b++) table[b] = allowed(b) ? 1 : 0;
  return table;
}

/** Header-name bytes (RFC 9110 tchar). */
const TCHAR = byteTable((b) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/.test(String.fromCharCode(b)));
/** Bytes of a field value or a reason phrase: HTAB, SP, visible ASCII, obs-text (no DEL, no other controls). */
const FIELD_BYTE = byteTable((b) => b === HT || (b >= 0x20 && b <= 0x7e) || b >= 0x80);

/** Where the line starting at `from` ends: its CRLF, or `end`. Bare CRs and LFs belong to the line. */
function lineEnd(buf: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === CR && buf[i + 1] === LF) return i;
  return end;
}

/** buf[from…to) equals `lower` (ASCII, lower case) without regard to case. */
function equalsIgnoringCase(buf: Buffer, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const byte = buf[from + i];
    if ((byte >= 65 && byte <= 90 ? byte + 32 : byte) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * `HTTP/1.0 ` or `HTTP/1.1 `, three digits, then the end of the line or a space and a reason
 * of field bytes: the status, or -1.
 */
function statusOf(buf: Buffer, end: number): number {
  if (end < 12) return -1;
  for (let i = 0; i < HTTP_1.length; i++) if (buf[i] !== HTTP_1.charCodeAt(i)) return -1;
  if ((buf[7] !== 0x30 && buf[7] !== 0x31) || buf[8] !== SP) return -1;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = buf[i] - 48;
    if (digit < 0 || digit > 9) return -1;
    status = status * 10 + digit;
  }
  if (end === 12) return status;
  if (buf[12] !== SP) return -1;
  for (let i = 13; i < end; i++) if (FIELD_BYTE[buf[i]] !== 1) return -1;
  return status;
}

/** Why a header line is refused, told by the first byte (at `at`) that broke its shape. */
function lineFault(buf: Buffer, line: number, at: number, inValue: boolean): string {
  const byte = buf[at];
  if (byte === CR || byte === LF) {
    if (!inValue && byte === CR && buf[at + 1] === LF) return 'response header without a colon';
    return 'bare CR or LF in the response head';
  }
  if (inValue) return 'control character in a response header value';
  if (byte === SP || byte === HT) return at === line ? 'obsolete line folding in the response head' : 'whitespace before the colon of a response header';
  return at === line && byte === COLON ? 'response header without a name' : 'malformed response header name';
}

export function parseResponseHead(buf: Buffer, requestMethod: string): ResponseHeadResult {
  // One pass finds where the head ends (its first empty line) and reads it. A fault is told as
  // soon as a line shows it (nothing after can mend it): an origin that breaks lines with a bare
  // LF gets its 502 at once, not after waiting for a CRLFCRLF that may never come.
  const limit = buf.length;
  const statusEnd = lineEnd(buf, 0, limit);
  if (statusEnd === limit) {
    // No CRLF yet: a bare LF (or a CR that is not the last byte) already spoils the status line.
    const cr = buf.indexOf(CR);
    return buf.indexOf(LF) >= 0 || (cr >= 0 && cr < limit - 1) ? error('malformed status line') : incomplete(buf);
  }
  const status = statusOf(buf, statusEnd);
  if (status < 0) return error('malformed status line');
  let contentLength: number | undefined;
  let transferEncoding = false;
  let chunked = false;
  let close = false;
  let line = statusEnd + 2;
  while (buf[line] !== CR || buf[line + 1] !== LF) {
    // The line's shape is checked as it is walked: a name of tchars, a colon, field bytes, CRLF.
    let j = line;
    while (TCHAR[buf[j]] === 1) j++; // past the buffer's end buf[j] is undefined: the run stops
    const colon = j;
    let inValue = false;
    if (j > line && buf[j] === COLON) {
      inValue = true;
      j++;
      while (FIELD_BYTE[buf[j]] === 1) j++;
    }
    if (j >= limit || (buf[j] === CR && j + 1 >= limit)) return incomplete(buf);
    if (!inValue || buf[j] !== CR || buf[j + 1] !== LF) return error(lineFault(buf, line, j, inValue));
    // Only three headers matter; their names are told apart by length before anything else.
    const length = colon - line;
    if (length === 14 && equalsIgnoringCase(buf, line, colon, 'content-length')) {
      if (contentLength !== undefined) return error('more than one Content-Length');
      const value = lengthValue(buf, colon + 1, j);
      if (value < 0) return error('malformed Content-Length');
      contentLength = value;
    } else if (length === 17 && equalsIgnoringCase(buf, line, colon, 'transfer-encoding')) {
      transferEncoding = true;
      chunked = lastCodingIsChunked(valueOf(buf, colon, j));
    } else if (length === 10 && equalsIgnoringCase(buf, line, colon, 'connection')) {
      if (listsClose(buf, colon + 1, j)) close = true;
    }
    line = j + 2;
  }
  if (transferEncoding && contentLength !== undefined) return error('both Content-Length and Transfer-Encoding');
  const noBody = requestMethod === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304;
  let framing: Framing;
  if (noBody) framing = NO_BODY;
  else if (chunked) framing = CHUNKED;
  else if (contentLength !== undefined) framing = { kind: 'length', length: contentLength };
  else framing = UNTIL_CLOSE;
  return { status: 'done', head: { status, framing, close: close || framing === UNTIL_CLOSE, size: line + 2 } };
}

function incomplete(buf: Buffer): ResponseHeadResult {
  return buf.length > MAX_RESPONSE_HEAD ? error('response head too large') : NEED_MORE;
}

/** A Content-Length value: 1 to 15 digits, with OWS (SP, HTAB) around them; -1 otherwise. */
function lengthValue(buf: Buffer, from: number, to: number): number {
  while (from < to && (buf[from] === SP || buf[from] === HT)) from++;
  while (to > from && (buf[to - 1] === SP || buf[to - 1] === HT)) to--;
  if (to === from || to - from > 15) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = buf[i] - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Whether a Connection value's comma-separated tokens (OWS trimmed, any case) include "close". */
function listsClose(buf: Buffer, from: number, to: number): boolean {
  for (let start = from; start <= to; ) {
    let end = start;
    while (end < to && buf[end] !== 0x2c) end++;
    let tokenStart = start;
    let tokenEnd = end;
    while (tokenStart < tokenEnd && (buf[tokenStart] === SP || buf[tokenStart] === HT)) tokenStart++;
    while (tokenEnd > tokenStart && (buf[tokenEnd - 1] === SP || buf[tokenEnd - 1] === HT)) tokenEnd--;
    if (equalsIgnoringCase(buf, tokenStart, tokenEnd, 'close')) return true;
    start = end + 1;
  }
  return false;
}

const OWS_EDGES = /^[ \t]+|[ \t]+$/g;

/** Whether the last of a Transfer-Encoding value's codings is chunked (RFC 9112 §6.3: else the body runs until close). */
function lastCodingIsChunked(value: string): boolean {
  const codings = value.split(',');
  return codings[codings.length - 1].replace(OWS_EDGES, '') === 'chunked';
}

/** A header's value after its colon, lower-cased (its bytes are field bytes: latin1 keeps one char each). */
function valueOf(buf: Buffer, colon: number, lineEnd: number): string {
  return buf.toString('latin1', colon + 1, lineEnd).toLowerCase();
}
