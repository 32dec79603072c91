/**
 * One HTTP/1.x message head (request or status line, then header lines), read for the fast
 * path's tap straight from the bytes it came in, up to its blank line. Every line is checked,
 * but per request only offsets and numbers come out: where the target and the Host value are,
 * the status, Content-Length, whether it upgrades. No string is made for the usual head (the
 * common methods are shared strings); the target, Host and the full name/value list are decoded
 * from the kept copy of the head when someone looks (rawHeadersOf). Anything malformed is an
 * HttpHeadError (the tap then stops, the bytes flow on).
 */

export class HttpHeadError extends Error {}

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const EMPTY = Buffer.alloc(0);

/**
 * A head as read by readHttpHead(): reused by its reader for every head, so an observer copies
 * what it keeps during the call. Offsets are relative to the head's first byte.
 */
export class HttpHead {
  /** The bytes the head was read from, at `start`: valid only while the head is being handled. */
  source: Buffer = EMPTY;
  start = 0;
  /** Bytes of the head without its blank line (what rawHeadersOf() reads later). */
  length = 0;
  /** Where the first header line starts. */
  headersFrom = 0;
  /** Requests: the method (a shared string for the common ones) and where the target is. */
  method = '';
  urlFrom = 0;
  urlTo = 0;
  /** Answers: the status code (0 for a request). */
  status = 0;
  /** Where the Host header's value is (hostFrom -1: none); see hostOf(). */
  hostFrom = -1;
  hostTo = -1;
  /** Content-Length, when given. */
  contentLength: number | undefined = undefined;
  /** Transfer-Encoding given: `chunked` when its last coding is chunked, `other` otherwise. */
  transferEncoding: 'chunked' | 'other' | undefined = undefined;
  /** Upgrade asked or confirmed (an Upgrade header with Connection: upgrade). */
  upgrade = false;
  /** Scan state: an Upgrade header, and a Connection header naming upgrade, were seen. */
  upgradeHeader = false;
  connectionUpgrade = false;

  /** The head as latin1 text (a new string: for tests and rare paths). */
  get text(): string {
    return this.source.toString('latin1', this.start, this.start + this.length);
  }

  /** The request target (a new string). */
  get url(): string {
    return this.source.toString('latin1', this.start + this.urlFrom, this.start + this.urlTo);
  }

  /** readHttpHead() starts each head here. */
  begin(source: Buffer, start: number): void {
    this.source = source;
    this.start = start;
    this.length = 0;
    this.headersFrom = 0;
    this.method = '';
    this.urlFrom = this.urlTo = 0;
    this.status = 0;
    this.hostFrom = this.hostTo = -1;
    this.contentLength = undefined;
    this.transferEncoding = undefined;
    this.upgrade = this.upgradeHeader = this.connectionUpgrade = false;
  }
}

/** tchar of RFC 9110: the bytes a method may be made of. */
const TOKEN_BYTE = new Uint8Array(128);
for (const c of "!#$%&'*+.^_`|~-") TOKEN_BYTE[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN_BYTE[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN_BYTE[c] = TOKEN_BYTE[c + 32] = 1;

const COMMON_METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'].map((name) => ({ name, bytes: Buffer.from(name, 'latin1') }));

function isBlank(byte: number): boolean {
  return byte === SP || byte === HTAB;
}

/** True when bytes[from, to) is exactly `expected`. */
function bytesAre(bytes: Buffer, from: number, to: number, expected: Buffer): boolean {
  if (to - from !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[from + i] !== expected[i]) return false;
  return true;
}

/** True when bytes[from, from + lower.length) is `lower` (ASCII letters, digits, '-') ignoring case. */
function nameIs(bytes: Buffer, from: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((bytes[from + i] | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** The method as a shared string when it is a common one, else a new one. */
function methodOf(bytes: Buffer, from: number, to: number): string {
  for (const m of COMMON_METHODS) if (bytesAre(bytes, from, to, m.bytes)) return m.name;
  return bytes.toString('latin1', from, to);
}

/** `HTTP/1.0` or `HTTP/1.1` at bytes[from, to). */
function isVersion(bytes: Buffer, from: number, to: number): boolean {
  if (to - from !== 8) return false;
  for (let i = 0; i < 7; i++) if (bytes[from + i] !== VERSION_PREFIX[i]) return false;
  const minor = bytes[from + 7];
  return minor === 48 || minor === 49;
}
const VERSION_PREFIX = Buffer.from('HTTP/1.', 'latin1');

function isDigit(byte: number): boolean {
  return byte >= 48 && byte <= 57;
}

/** Where the CRLF that ends the line starting at `from` is, or -1 if it is not in bytes[from, limit). */
function lineEnd(bytes: Buffer, from: number, limit: number): number {
  for (let i = from; i < limit - 1; i++) if (bytes[i] === CR && bytes[i + 1] === LF) return i;
  return -1;
}

/** A request's `METHOD target HTTP/1.x` or an answer's `HTTP/1.x 200 Reason` at bytes[from, end). */
function startLine(bytes: Buffer, from: number, end: number, head: HttpHead, isRequest: boolean): void {
  if (isRequest) {
    let first = from;
    while (first < end && bytes[first] !== SP) first++;
    let last = end - 1;
    while (last > first && bytes[last] !== SP) last--;
    if (first === from || first >= end || last <= first + 1) throw new HttpHeadError('bad request line');
    for (let i = from; i < first; i++) if (bytes[i] >= 128 || TOKEN_BYTE[bytes[i]] === 0) throw new HttpHeadError('bad request line');
    if (!isVersion(bytes, last + 1, end)) throw new HttpHeadError('bad request line');
    head.method = methodOf(bytes, from, first);
    head.urlFrom = first + 1 - head.start;
    head.urlTo = last - head.start;
    return;
  }
  const ok = end - from >= 12 && isVersion(bytes, from, from + 8) && bytes[from + 8] === SP && isDigit(bytes[from + 9]) && isDigit(bytes[from + 10]) && isDigit(bytes[from + 11]) && (end - from === 12 || bytes[from + 12] === SP);
  if (!ok) throw new HttpHeadError('bad status line');
  head.status = (bytes[from + 9] - 48) * 100 + (bytes[from + 10] - 48) * 10 + (bytes[from + 11] - 48);
}

function contentLengthOf(bytes: Buffer, from: number, to: number, before: number | undefined): number {
  let length = 0;
  for (let i = from; i < to; i++) {
    if (!isDigit(bytes[i])) throw new HttpHeadError(`bad Content-Length ${JSON.stringify(bytes.toString('latin1', from, to))}`);
    length = length * 10 + (bytes[i] - 48);
  }
  if (from === to) throw new HttpHeadError('bad Content-Length ""');
  if (!Number.isSafeInteger(length) || (before !== undefined && before !== length)) throw new HttpHeadError('conflicting or oversized Content-Length');
  return length;
}

/** True when bytes[from, to) holds `upgrade` in any case: only then is the value decoded and read as a list. */
function mentionsUpgrade(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i + 7 <= to; i++) if (nameIs(bytes, i, 'upgrade')) return true;
  return false;
}

/** Reads the headers the tap needs (framing, Host); names are compared by length first: most are none of them. */
function noteHeader(head: HttpHead, bytes: Buffer, name: number, colon: number, from: number, to: number): void {
  switch (colon - name) {
    case 4:
      if (head.hostFrom < 0 && nameIs(bytes, name, 'host')) {
        head.hostFrom = from - head.start;
        head.hostTo = to - head.start;
      }
      break;
    case 14:
      if (nameIs(bytes, name, 'content-length')) head.contentLength = contentLengthOf(bytes, from, to, head.contentLength);
      break;
    case 17:
      if (nameIs(bytes, name, 'transfer-encoding')) head.transferEncoding = /(?:^|,)\s*chunked\s*$/i.test(bytes.toString('latin1', from, to)) ? 'chunked' : 'other';
      break;
    case 10:
      if (nameIs(bytes, name, 'connection') && mentionsUpgrade(bytes, from, to) && /(?:^|,)\s*upgrade\s*(?:,|$)/i.test(bytes.toString('latin1', from, to))) head.connectionUpgrade = true;
      break;
    case 7:
      if (nameIs(bytes, name, 'upgrade')) head.upgradeHeader = true;
      break;
  }
}

/**
 * Reads the head that starts at bytes[start] into `head`, checking every line. Returns where its
 * body starts (just past the blank line), or -1 when the blank line is not before `limit` yet
 * (nothing is reported then: read again from `start` once more bytes came).
 */
export function readHttpHead(bytes: Buffer, start: number, limit: number, isRequest: boolean, head: HttpHead): number {
  const firstEnd = lineEnd(bytes, start, limit);
  if (firstEnd < 0) return -1;
  head.begin(bytes, start);
  startLine(bytes, start, firstEnd, head, isRequest);
  let pos = firstEnd + 2;
  let lines = 0;
  for (;;) {
    if (pos + 1 >= limit) return -1;
    if (bytes[pos] === CR && bytes[pos + 1] === LF) break; // the blank line
    const end = lineEnd(bytes, pos, limit);
    if (end < 0) return -1;
    if (isBlank(bytes[pos])) {
      // obs-fold: a continuation of the previous value (nothing the tap reads continues).
      if (lines === 0) throw new HttpHeadError('a folded line before any header');
    } else {
      let colon = pos;
      while (colon < end && bytes[colon] !== COLON) colon++;
      if (colon === pos || colon === end || isBlank(bytes[colon - 1])) throw new HttpHeadError(`bad header line ${JSON.stringify(bytes.toString('latin1', pos, Math.min(end, pos + 40)))}`);
      let from = colon + 1;
      let to = end;
      while (from < to && isBlank(bytes[from])) from++;
      while (to > from && isBlank(bytes[to - 1])) to--;
      noteHeader(head, bytes, pos, colon, from, to);
      lines++;
    }
    pos = end + 2;
  }
  head.length = pos - 2 - start;
  head.headersFrom = firstEnd + 2 - start;
  head.upgrade = head.upgradeHeader && head.connectionUpgrade;
  return pos + 2;
}

/** Parses a whole head given as latin1 text without its blank line (tests, replays): a new head. */
export function parseHttpHead(text: string, isRequest: boolean): HttpHead {
  const bytes = Buffer.from(`${text}\r\n\r\n`, 'latin1');
  const head = new HttpHead();
  if (readHttpHead(bytes, 0, bytes.length, isRequest, head) !== bytes.length) throw new HttpHeadError('not one head');
  return head;
}

/**
 * The Host header's value, or `fallback` without one; `known` itself when the value is the same
 * (the usual case: no new string).
 */
export function hostOf(head: HttpHead, known: string, fallback = known): string {
  if (head.hostFrom < 0) return fallback;
  const from = head.start + head.hostFrom;
  const to = head.start + head.hostTo;
  if (to - from === known.length) {
    let same = true;
    for (let i = 0; i < known.length && same; i++) same = head.source[from + i] === known.charCodeAt(i);
    if (same) return known;
  }
  return head.source.toString('latin1', from, to);
}

function isBlankCode(code: number): boolean {
  return code === SP || code === HTAB;
}

/** Name, value, name, value… as they came (names not lower-cased), as Node's rawHeaders; folded lines joined. */
export function rawHeadersOf(text: string, headersFrom: number): string[] {
  const raw: string[] = [];
  let pos = headersFrom;
  while (pos < text.length) {
    let end = text.indexOf('\r\n', pos);
    if (end < 0) end = text.length;
    let to = end;
    if (isBlankCode(text.charCodeAt(pos))) {
      let from = pos;
      while (from < to && isBlankCode(text.charCodeAt(from))) from++;
      while (to > from && isBlankCode(text.charCodeAt(to - 1))) to--;
      raw[raw.length - 1] += ` ${text.slice(from, to)}`;
    } else {
      // Checked when the head was read: there is a colon, with no blank before it.
      const colon = text.indexOf(':', pos);
      let from = colon + 1;
      while (from < to && isBlankCode(text.charCodeAt(from))) from++;
      while (to > from && isBlankCode(text.charCodeAt(to - 1))) to--;
      raw.push(text.slice(pos, colon), text.slice(from, to));
    }
    pos = end + 2;
  }
  return raw;
}
