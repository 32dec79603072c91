import type { Framing } from './body-framing';

/**
 * Reads the status line and headers of a response coming back from an agent's origin,
 * only to learn how its body is framed (the bytes themselves are forwarded untouched).
 * It runs for every response on the fast path, so it reads bytes in place: a string is
 * made only of the values of the three headers that matter.
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
const COLON = 58;
const HTTP_1 = 'HTTP/1.';
const NEED_MORE: ResponseHeadResult = { status: 'need-more' };
const NO_BODY: Framing = { kind: 'none' };
const CHUNKED: Framing = { kind: 'chunked' };
const UNTIL_CLOSE: Framing = { kind: 'until-close' };
const error = (reason: string): ResponseHeadResult => ({ status: 'error', reason });

/** Bytes String.prototype.trim removes (among latin1's): names and values are trimmed as it would. */
const TRIMMED = new Uint8Array(256);
for (const byte of [9, 10, 11, 12, 13, 32, 0xa0]) TRIMMED[byte] = 1;

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
 * without CR or LF: the status, or -1.
 */
function statusOf(buf: Buffer, end: number): number {
  if (end < 12) return -1;
  for (let i = 0; i < HTTP_1.length; i++) if (buf[i] !== HTTP_1.charCodeAt(i)) return -1;
  if ((buf[7] !== 0x30 && buf[7] !== 0x31) || buf[8] !== 0x20) return -1;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = buf[i] - 48;
    if (digit < 0 || digit > 9) return -1;
    status = status * 10 + digit;
  }
  if (end === 12) return status;
  if (buf[12] !== 0x20) return -1;
  for (let i = 13; i < end; i++) if (buf[i] === CR || buf[i] === LF) return -1;
  return status;
}

export function parseResponseHead(buf: Buffer, requestMethod: string): ResponseHeadResult {
  // One pass finds where the head ends (its first empty line) and reads it; a fault is kept and
  // told only once the head is complete, as it would be after searching for CRLFCRLF first.
  const limit = buf.length;
  const statusEnd = lineEnd(buf, 0, limit);
  if (statusEnd === limit) return incomplete(buf);
  const status = statusOf(buf, statusEnd);
  let fault: string | undefined = status < 0 ? 'malformed status line' : undefined;
  let contentLength: number | undefined;
  let chunked = false;
  let close = false;
  let line = statusEnd + 2;
  for (;;) {
    const next = lineEnd(buf, line, limit);
    if (next === limit) return incomplete(buf);
    if (next === line) break; // the empty line: the head ends here
    if (fault === undefined) {
      let colon = line;
      while (colon < next && buf[colon] !== COLON) colon++;
      if (colon === line || colon === next) fault = 'malformed response header';
      else {
        // Only three headers matter; their names are told apart by length before anything else.
        let nameStart = line;
        let nameEnd = colon;
        while (nameStart < nameEnd && TRIMMED[buf[nameStart]] === 1) nameStart++;
        while (nameEnd > nameStart && TRIMMED[buf[nameEnd - 1]] === 1) nameEnd--;
        const length = nameEnd - nameStart;
        if (length === 14 && equalsIgnoringCase(buf, nameStart, nameEnd, 'content-length')) {
          const value = lengthValue(buf, colon + 1, next);
          if (value < 0 || (contentLength !== undefined && contentLength !== value)) fault = 'malformed Content-Length';
          else contentLength = value;
        } else if (length === 17 && equalsIgnoringCase(buf, nameStart, nameEnd, 'transfer-encoding')) {
          chunked = valueOf(buf, colon, next).split(',').map((t) => t.trim()).pop() === 'chunked';
        } else if (length === 10 && equalsIgnoringCase(buf, nameStart, nameEnd, 'connection')) {
          if (listsClose(buf, colon + 1, next)) close = true;
        }
      }
    }
    line = next + 2;
  }
  if (fault !== undefined) return error(fault);
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

/** A Content-Length value: 1 to 15 digits, with whitespace around them (as trim() removes it); -1 otherwise. */
function lengthValue(buf: Buffer, from: number, to: number): number {
  while (from < to && TRIMMED[buf[from]] === 1) from++;
  while (to > from && TRIMMED[buf[to - 1]] === 1) to--;
  if (to === from || to - from > 15) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = buf[i] - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Whether a Connection value's comma-separated tokens (trimmed, any case) include "close". */
function listsClose(buf: Buffer, from: number, to: number): boolean {
  for (let start = from; start <= to; ) {
    let end = start;
    while (end < to && buf[end] !== 0x2c) end++;
    let tokenStart = start;
    let tokenEnd = end;
    while (tokenStart < tokenEnd && TRIMMED[buf[tokenStart]] === 1) tokenStart++;
    while (tokenEnd > tokenStart && TRIMMED[buf[tokenEnd - 1]] === 1) tokenEnd--;
    if (equalsIgnoringCase(buf, tokenStart, tokenEnd, 'close')) return true;
    start = end + 1;
  }
  return false;
}

/** A header's value after its colon, trimmed and lower-cased. */
function valueOf(buf: Buffer, colon: number, lineEnd: number): string {
  return buf.toString('latin1', colon + 1, lineEnd).trim().toLowerCase();
}
