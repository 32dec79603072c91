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

/** Parses `text`: the head's bytes as latin1, without the blank line that ends it. */
export function parseHttpHead(text: string, isRequest: boolean): HttpHead {
  const head: HttpHead = { method: '', url: '', status: 0, rawHeaders: [], contentLength: undefined, transferEncoding: undefined, upgrade: false };
  const lines = text.split('\r\n');
  startLine(lines[0], head, isRequest);
  const raw = head.rawHeaders;
  let upgradeHeader = false;
  let connectionUpgrade = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line[0] === ' ' || line[0] === '\t') {
      // obs-fold: a continuation of the previous value.
      if (raw.length === 0) throw new HttpHeadError('a folded line before any header');
      raw[raw.length - 1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) throw new HttpHeadError(`bad header line ${JSON.stringify(line.slice(0, 40))}`);
    const value = line.slice(colon + 1).trim();
    raw.push(name, value);
    // Only the few names that frame the message are compared (by length first: most are not).
    switch (name.length) {
      case 14:
        if (name.toLowerCase() === 'content-length') head.contentLength = contentLengthOf(value, head.contentLength);
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') head.transferEncoding = /(?:^|,)\s*chunked\s*$/i.test(value) ? 'chunked' : 'other';
        break;
      case 10:
        if (name.toLowerCase() === 'connection' && /(?:^|,)\s*upgrade\s*(?:,|$)/i.test(value)) connectionUpgrade = true;
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') upgradeHeader = true;
        break;
    }
  }
  head.upgrade = upgradeHeader && connectionUpgrade;
  return head;
}
