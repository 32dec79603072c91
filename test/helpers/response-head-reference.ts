import type { ResponseHeadResult } from '../../relay/src/fast-http/response-head';
import type { Framing } from '../../relay/src/fast-http/body-framing';
import { MAX_RESPONSE_HEAD } from '../../relay/src/fast-http/response-head';

/**
 * A string reader of response heads, written the plain way (split the head at its first CRLFCRLF,
 * then into lines, regular expressions for each rule), kept as the reference the relay's byte
 * reader (relay/src/fast-http/response-head.ts) is held to. Same rules, same first reason: the
 * status line, then each line in order (the first byte that breaks its shape names the fault),
 * then Content-Length with Transfer-Encoding. Not used by the relay.
 */
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: [\t\x20-\x7e\x80-\xff]*)?$/;
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*/;
const NOT_FIELD_BYTE = /[^\t\x20-\x7e\x80-\xff]/;
const ows = (text: string): string => text.replace(/^[ \t]+|[ \t]+$/g, '');

/** Why a header line is refused, or undefined for a `token:field-bytes` line. */
function lineFault(line: string): string | undefined {
  const name = NAME.exec(line)![0];
  const rest = line.slice(name.length);
  if (name.length > 0 && rest.startsWith(':')) {
    const bad = NOT_FIELD_BYTE.exec(rest.slice(1));
    if (bad === null) return undefined;
    return bad[0] === '\r' || bad[0] === '\n' ? 'bare CR or LF in the response head' : 'control character in a response header value';
  }
  if (rest === '') return 'response header without a colon';
  const byte = rest[0];
  if (byte === '\r' || byte === '\n') return 'bare CR or LF in the response head';
  if (byte === ' ' || byte === '\t') return name === '' ? 'obsolete line folding in the response head' : 'whitespace before the colon of a response header';
  return name === '' && byte === ':' ? 'response header without a name' : 'malformed response header name';
}

export function referenceParseResponseHead(buf: Buffer, requestMethod: string): ResponseHeadResult {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > MAX_RESPONSE_HEAD ? { status: 'error', reason: 'response head too large' } : { status: 'need-more' };
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const match = STATUS_LINE.exec(lines[0]);
  if (!match) return { status: 'error', reason: 'malformed status line' };
  const status = Number(match[1]);
  let contentLength: number | undefined;
  let transferEncoding = false;
  let chunked = false;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const fault = lineFault(line);
    if (fault !== undefined) return { status: 'error', reason: fault };
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = ows(line.slice(colon + 1)).toLowerCase();
    if (name === 'content-length') {
      if (contentLength !== undefined) return { status: 'error', reason: 'more than one Content-Length' };
      if (!/^\d{1,15}$/.test(value)) return { status: 'error', reason: 'malformed Content-Length' };
      contentLength = Number(value);
    } else if (name === 'transfer-encoding') {
      transferEncoding = true;
      chunked = ows(value.split(',').pop()!) === 'chunked';
    } else if (name === 'connection') {
      if (value.split(',').some((t) => ows(t) === 'close')) close = true;
    }
  }
  if (transferEncoding && contentLength !== undefined) return { status: 'error', reason: 'both Content-Length and Transfer-Encoding' };
  const noBody = requestMethod === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304;
  let framing: Framing;
  if (noBody) framing = { kind: 'none' };
  else if (chunked) framing = { kind: 'chunked' };
  else if (contentLength !== undefined) framing = { kind: 'length', length: contentLength };
  else framing = { kind: 'until-close' };
  return { status: 'done', head: { status, framing, close: close || framing.kind === 'until-close', size: end + 4 } };
}
