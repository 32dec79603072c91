/**
 * One HTTP/1.x message head (request or status line, then header lines), read for the fast
 * path's tap from the bytes up to its blank line. Per request only what frames the body and what
 * the list shows (method, target, status, Host) is read out: every line is checked, but names and
 * values become strings only for those few headers. The full name/value list is made from the
 * kept head text on demand (rawHeadersOf), when someone asks to see it. Anything malformed is an
 * HttpHeadError (the tap then stops, the bytes flow on).
 */

export class HttpHeadError extends Error {}

export interface HttpHead {
  /** The head as latin1 text without its blank line: what rawHeadersOf() reads later. */
  text: string;
  /** Where the first header line starts in `text`. */
  headersFrom: number;
  /** Requests: the method and target. */
  method: string;
  url: string;
  /** Answers: the status code (0 for a request). */
  status: number;
  /** The Host header's value is text[hostFrom, hostTo) (hostFrom -1: none); see hostOf(). */
  hostFrom: number;
  hostTo: number;
  /** The bytes `text` was read from, at sourceStart: valid only while the head is being handled. */
  source: Buffer;
  sourceStart: number;
  /** Content-Length, when given. */
  contentLength: number | undefined;
  /** Transfer-Encoding given: `chunked` when its last coding is chunked, `other` otherwise. */
  transferEncoding: 'chunked' | 'other' | undefined;
  /** Upgrade asked or confirmed (an Upgrade header with Connection: upgrade). */
  upgrade: boolean;
  /** Scan state: an Upgrade header, and a Connection header naming upgrade, were seen. */
  upgradeHeader: boolean;
  connectionUpgrade: boolean;
}

const DIGITS = /^\d+$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VERSION = /^HTTP\/1\.[01]$/;

function contentLengthOf(value: string, before: number | undefined): number {
  if (!DIGITS.test(value)) throw new HttpHeadError(`bad Content-Length ${JSON.stringify(value)}`);
  const length = Number(value);
  if (!Number.isSafeInteger(length) || (before !== undefined && before !== length)) throw new HttpHeadError('conflicting or oversized Content-Length');
  return length;
}

const COMMON_METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'];

/** The usual methods as shared strings: no new string per request for each capture to hold. */
function commonMethod(text: string, length: number): string | undefined {
  for (const m of COMMON_METHODS) if (m.length === length && text.startsWith(m)) return m;
  return undefined;
}

/** Splits the start line: a request's `METHOD target HTTP/1.x` or an answer's `HTTP/1.x 200 Reason`. */
function startLine(text: string, lineEnd: number, head: HttpHead, isRequest: boolean): void {
  if (isRequest) {
    const first = text.indexOf(' ');
    const last = text.lastIndexOf(' ', lineEnd - 1);
    if (first <= 0 || first >= lineEnd || last <= first + 1) throw new HttpHeadError('bad request line');
    head.method = commonMethod(text, first) ?? text.slice(0, first);
    head.url = text.slice(first + 1, last);
    if (!TOKEN.test(head.method) || !VERSION.test(text.slice(last + 1, lineEnd))) throw new HttpHeadError('bad request line');
    return;
  }
  const code = text.slice(9, 12);
  if (!VERSION.test(text.slice(0, 8)) || text.charCodeAt(8) !== SP || !DIGITS.test(code) || (lineEnd > 12 && text.charCodeAt(12) !== SP)) throw new HttpHeadError('bad status line');
  head.status = Number(code);
}

const SP = 32;
const HTAB = 9;

function isBlank(code: number): boolean {
  return code === SP || code === HTAB;
}

/** True when text[from, from + lower.length) is `lower` ignoring ASCII case. */
function nameIs(text: string, from: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((text.charCodeAt(from + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Called for each header line of a head: the name is text[name, colon), the value text[from, to). */
type LineVisitor<T> = (state: T, text: string, name: number, colon: number, from: number, to: number) => void;
/** Called for an obs-fold continuation line: text[from, to), trimmed. */
type FoldVisitor<T> = (state: T, text: string, from: number, to: number) => void;

/** Walks the header lines of `text` from `pos` with indexOf (no per-line strings); throws on a malformed line. */
function forEachHeaderLine<T>(text: string, pos: number, state: T, line: LineVisitor<T>, fold: FoldVisitor<T>): void {
  let lines = 0;
  while (pos < text.length) {
    let end = text.indexOf('\r\n', pos);
    if (end < 0) end = text.length;
    let from: number;
    let to = end;
    if (isBlank(text.charCodeAt(pos))) {
      if (lines === 0) throw new HttpHeadError('a folded line before any header');
      from = pos;
      while (from < to && isBlank(text.charCodeAt(from))) from++;
      while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
      fold(state, text, from, to);
    } else {
      const colon = text.indexOf(':', pos);
      if (colon <= pos || colon > end || isBlank(text.charCodeAt(colon - 1))) throw new HttpHeadError(`bad header line ${JSON.stringify(text.slice(pos, Math.min(end, pos + 40)))}`);
      from = colon + 1;
      while (from < to && isBlank(text.charCodeAt(from))) from++;
      while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
      line(state, text, pos, colon, from, to);
      lines++;
    }
    pos = end + 2;
  }
}

/** Reads the headers the tap needs (framing, Host); names are compared by length first: most are none of them. */
function noteHeader(head: HttpHead, text: string, name: number, colon: number, from: number, to: number): void {
  switch (colon - name) {
    case 4:
      if (nameIs(text, name, 'host') && head.hostFrom < 0) {
        head.hostFrom = from;
        head.hostTo = to;
      }
      break;
    case 14:
      if (nameIs(text, name, 'content-length')) head.contentLength = contentLengthOf(text.slice(from, to), head.contentLength);
      break;
    case 17:
      if (nameIs(text, name, 'transfer-encoding')) head.transferEncoding = /(?:^|,)\s*chunked\s*$/i.test(text.slice(from, to)) ? 'chunked' : 'other';
      break;
    case 10:
      if (nameIs(text, name, 'connection') && /(?:^|,)\s*upgrade\s*(?:,|$)/i.test(text.slice(from, to))) head.connectionUpgrade = true;
      break;
    case 7:
      if (nameIs(text, name, 'upgrade')) head.upgradeHeader = true;
      break;
  }
}

function ignoreFold(): void {}

const EMPTY = Buffer.alloc(0);

/**
 * The Host header's value, or `fallback` without one; `known` itself when the value is the same
 * (the usual case: no new string, and none that keeps the head's text alive).
 */
export function hostOf(head: HttpHead, known: string, fallback = known): string {
  if (head.hostFrom < 0) return fallback;
  const same = head.hostTo - head.hostFrom === known.length && head.text.startsWith(known, head.hostFrom);
  return same ? known : head.text.slice(head.hostFrom, head.hostTo);
}

/**
 * Parses `text`: the head's bytes as latin1, without the blank line that ends it. Every line is
 * checked here, so rawHeadersOf() on the same text cannot fail later.
 */
export function parseHttpHead(text: string, isRequest: boolean, source: Buffer = EMPTY, sourceStart = 0): HttpHead {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const head: HttpHead = {
    text,
    headersFrom: lineEnd + 2,
    method: '',
    url: '',
    status: 0,
    hostFrom: -1,
    hostTo: -1,
    source,
    sourceStart,
    contentLength: undefined,
    transferEncoding: undefined,
    upgrade: false,
    upgradeHeader: false,
    connectionUpgrade: false,
  };
  startLine(text, lineEnd, head, isRequest);
  forEachHeaderLine(text, head.headersFrom, head, noteHeader, ignoreFold);
  head.upgrade = head.upgradeHeader && head.connectionUpgrade;
  return head;
}

function pushHeader(raw: string[], text: string, name: number, colon: number, from: number, to: number): void {
  raw.push(text.slice(name, colon), text.slice(from, to));
}

function appendFold(raw: string[], text: string, from: number, to: number): void {
  raw[raw.length - 1] += ` ${text.slice(from, to)}`;
}

/** Name, value, name, value… as they came (names not lower-cased), as Node's rawHeaders; folded lines joined. */
export function rawHeadersOf(text: string, headersFrom: number): string[] {
  const raw: string[] = [];
  forEachHeaderLine(text, headersFrom, raw, pushHeader, appendFold);
  return raw;
}
