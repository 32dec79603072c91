/**
 * One HTTP/1.x message head (request or status line, then header lines), parsed for the fast
 * path's tap from the bytes up to its blank line. Only what the inspector records and what frames
 * the body is read out; anything malformed is an HttpHeadError (the tap then stops, the bytes
 * flow on). The relay has already checked request heads strictly; answers come from the origin.
 */

export class HttpHeadError extends Error {}

export interface HttpHead {
  /** Requests: the method and target. */
  method: string;
  url: string;
  /** Answers: the status code (0 for a request). */
  status: number;
  /** Name, value, name, value… as they came (names not lower-cased), as Node's rawHeaders. */
  rawHeaders: string[];
  /** Content-Length, when given. */
  contentLength: number | undefined;
  /** Transfer-Encoding given: `chunked` when its last coding is chunked, `other` otherwise. */
  transferEncoding: 'chunked' | 'other' | undefined;
  /** Upgrade asked or confirmed (an Upgrade header with Connection: upgrade). */
  upgrade: boolean;
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

/** Splits the start line: a request's `METHOD target HTTP/1.x` or an answer's `HTTP/1.x 200 Reason`. */
function startLine(line: string, head: HttpHead, isRequest: boolean): void {
  if (isRequest) {
    const first = line.indexOf(' ');
    const last = line.lastIndexOf(' ');
    head.method = line.slice(0, first);
    head.url = line.slice(first + 1, last);
    if (first <= 0 || last <= first + 1 || !TOKEN.test(head.method) || !VERSION.test(line.slice(last + 1))) throw new HttpHeadError('bad request line');
    return;
  }
  const code = line.slice(9, 12);
  if (!VERSION.test(line.slice(0, 8)) || line[8] !== ' ' || !DIGITS.test(code) || (line.length > 12 && line[12] !== ' ')) throw new HttpHeadError('bad status line');
  head.status = Number(code);
}

const SP = 32;
const HTAB = 9;

function isBlank(code: number): boolean {
  return code === SP || code === HTAB;
}

/** Reads the framing headers' values into `head` (names compared by length first: most are not). */
function noteFraming(head: HttpHead, name: string, value: string, flags: { upgrade: boolean; connectionUpgrade: boolean }): void {
  switch (name.length) {
    case 14:
      if (name.toLowerCase() === 'content-length') head.contentLength = contentLengthOf(value, head.contentLength);
      break;
    case 17:
      if (name.toLowerCase() === 'transfer-encoding') head.transferEncoding = /(?:^|,)\s*chunked\s*$/i.test(value) ? 'chunked' : 'other';
      break;
    case 10:
      if (name.toLowerCase() === 'connection' && /(?:^|,)\s*upgrade\s*(?:,|$)/i.test(value)) flags.connectionUpgrade = true;
      break;
    case 7:
      if (name.toLowerCase() === 'upgrade') flags.upgrade = true;
      break;
  }
}

/**
 * Parses `text`: the head's bytes as latin1, without the blank line that ends it. Walks it with
 * indexOf and slices each name and value straight from it (no per-line strings: this runs once
 * per request on the data path's side).
 */
export function parseHttpHead(text: string, isRequest: boolean): HttpHead {
  const head: HttpHead = { method: '', url: '', status: 0, rawHeaders: [], contentLength: undefined, transferEncoding: undefined, upgrade: false };
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  startLine(text.slice(0, lineEnd), head, isRequest);
  const raw = head.rawHeaders;
  const flags = { upgrade: false, connectionUpgrade: false };
  let pos = lineEnd + 2;
  while (pos < text.length) {
    let end = text.indexOf('\r\n', pos);
    if (end < 0) end = text.length;
    if (isBlank(text.charCodeAt(pos))) {
      // obs-fold: a continuation of the previous value.
      if (raw.length === 0) throw new HttpHeadError('a folded line before any header');
      raw[raw.length - 1] += ` ${text.slice(pos, end).trim()}`;
    } else {
      const colon = text.indexOf(':', pos);
      if (colon <= pos || colon > end || isBlank(text.charCodeAt(colon - 1))) throw new HttpHeadError(`bad header line ${JSON.stringify(text.slice(pos, Math.min(end, pos + 40)))}`);
      let from = colon + 1;
      let to = end;
      while (from < to && isBlank(text.charCodeAt(from))) from++;
      while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
      const name = text.slice(pos, colon);
      const value = text.slice(from, to);
      raw.push(name, value);
      noteFraming(head, name, value, flags);
    }
    pos = end + 2;
  }
  head.upgrade = flags.upgrade && flags.connectionUpgrade;
  return head;
}
