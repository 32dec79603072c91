import type { ResponseHeadResult } from '../../relay/src/fast-http/response-head';
import type { Framing } from '../../relay/src/fast-http/body-framing';
import { MAX_RESPONSE_HEAD } from '../../relay/src/fast-http/response-head';

/**
 * A string reader of response heads, written the plain way (split into lines at CRLF, regular
 * expressions for each rule), kept as the reference the relay's byte reader
 * (relay/src/fast-http/response-head.ts) is held to. Same rules, same first reason: the status
 * line, then each line in order (the first byte that breaks its shape names the fault), then
 * Content-Length with Transfer-Encoding. A fault is told as soon as the bytes show it, also in a
 * head not complete yet (a final CR may still become a CRLF). Not used by the relay.
 */
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: [\t\x20-\x7e\x80-\xff]*)?$/;
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*/;
const NOT_FIELD_BYTE = /[^\t\x20-\x7e\x80-\xff]/;
const ows = (text: string): string => text.replace(/^[ \t]+|[ \t]+$/g, '');

/** Why a header line is refused, or undefined for a `token:field-bytes` line (or the start of one, when `partial`). */
function lineFault(line: string, partial: boolean): string | undefined {
  const name = NAME.exec(line)![0];
  const rest = line.slice(name.length);
  if (name.length > 0 && rest.startsWith(':')) {
    const bad = NOT_FIELD_BYTE.exec(rest.slice(1));
    if (bad === null) return undefined;
    return bad[0] === '\r' || bad[0] === '\n' ? 'bare CR or LF in the response head' : 'control character in a response header value';
  }
  if (rest === '') return partial ? undefined : 'response header without a colon';
  const byte = rest[0];
  if (byte === '\r' || byte === '\n') return 'bare CR or LF in the response head';
  if (byte === ' ' || byte === '\t') return name === '' ? 'obsolete line folding in the response head' : 'whitespace before the colon of a response header';
  return name === '' && byte === ':' ? 'response header without a name' : 'malformed response header name';
}

const refused = (reason: string): ResponseHeadResult => ({ status: 'error', reason });

export function referenceParseResponseHead(buf: Buffer, requestMethod: string): ResponseHeadResult {
  const end = buf.indexOf('\r\n\r\n');
  const complete = end >= 0;
  const lines = buf.toString('latin1', 0, complete ? end : buf.length).split('\r\n');
  const needMore = (): ResponseHeadResult => (buf.length > MAX_RESPONSE_HEAD ? refused('response head too large') : { status: 'need-more' });
  if (!complete && lines.length === 1) return /\n|\r(?!$)/.test(lines[0]) ? refused('malformed status line') : needMore(); // not even the status line yet
  const match = STATUS_LINE.exec(lines[0]);
  if (!match) return refused('malformed status line');
  const status = Number(match[1]);
  let contentLength: number | undefined;
  let transferEncoding = false;
  let chunked = false;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    if (!complete && i === lines.length - 1) {
      // The line still arriving: judged on what it shows so far (a final CR may begin its CRLF).
      const fault = lineFault(lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i], true);
      return fault === undefined ? needMore() : refused(fault);
    }
    const line = lines[i];
    const fault = lineFault(line, false);
    if (fault !== undefined) return refused(fault);
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = ows(line.slice(colon + 1)).toLowerCase();
    if (name === 'content-length') {
      if (contentLength !== undefined) return refused('more than one Content-Length');
      if (!/^\d{1,15}$/.test(value)) return refused('malformed Content-Length');
      contentLength = Number(value);
    } else if (name === 'transfer-encoding') {
      transferEncoding = true;
      chunked = ows(value.split(',').pop()!) === 'chunked';
    } else if (name === 'connection') {
      if (value.split(',').some((t) => ows(t) === 'close')) close = true;
    }
  }
  if (transferEncoding && contentLength !== undefined) return refused('both Content-Length and Transfer-Encoding');
  const noBody = requestMethod === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304;
  let framing: Framing;
  if (noBody) framing = { kind: 'none' };
  else if (chunked) framing = { kind: 'chunked' };
  else if (contentLength !== undefined) framing = { kind: 'length', length: contentLength };
  else framing = { kind: 'until-close' };
  return { status: 'done', head: { status, framing, close: close || framing.kind === 'until-close', size: end + 4 } };
}
