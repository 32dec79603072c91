import type { ResponseHeadResult } from '../../relay/src/fast-http/response-head';
import type { Framing } from '../../relay/src/fast-http/body-framing';
import { MAX_RESPONSE_HEAD } from '../../relay/src/fast-http/response-head';

/**
 * The relay's earlier string reader of response heads (relay/src/fast-http/response-head.ts as of
 * commit 855a7e2^, before it became a byte scan), kept here as the reference the byte reader is
 * held to: it splits the head at its first CRLFCRLF, then each line at its first colon, with
 * String.prototype.trim and toLowerCase. Not used by the relay.
 */
export function referenceParseResponseHead(buf: Buffer, requestMethod: string): ResponseHeadResult {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > MAX_RESPONSE_HEAD ? { status: 'error', reason: 'response head too large' } : { status: 'need-more' };
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
  if (!match) return { status: 'error', reason: 'malformed status line' };
  const status = Number(match[1]);
  let contentLength: number | undefined;
  let chunked = false;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) return { status: 'error', reason: 'malformed response header' };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim().toLowerCase();
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) return { status: 'error', reason: 'malformed Content-Length' };
      contentLength = Number(value);
    } else if (name === 'transfer-encoding') {
      chunked = value.split(',').map((t) => t.trim()).pop() === 'chunked';
    } else if (name === 'connection') {
      if (value.split(',').some((t) => t.trim() === 'close')) close = true;
    }
  }
  const noBody = requestMethod === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304;
  let framing: Framing;
  if (noBody) framing = { kind: 'none' };
  else if (chunked) framing = { kind: 'chunked' };
  else if (contentLength !== undefined) framing = { kind: 'length', length: contentLength };
  else framing = { kind: 'until-close' };
  return { status: 'done', head: { status, framing, close: close || framing.kind === 'until-close', size: end + 4 } };
}
