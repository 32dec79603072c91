import type { Framing } from './body-framing';

/**
 * Reads the status line and headers of a response coming back from an agent's origin,
 * only to learn how its body is framed (the bytes themselves are forwarded untouched).
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

export function parseResponseHead(buf: Buffer, requestMethod: string): ResponseHeadResult {
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
    // Only three headers matter; their names are told apart by length before anything is
    // lower-cased (this runs for every response on the fast path).
    const name = line.slice(0, colon).trim();
    if (name.length !== 14 && name.length !== 17 && name.length !== 10) continue;
    const lowerName = name.toLowerCase();
    if (lowerName !== 'content-length' && lowerName !== 'transfer-encoding' && lowerName !== 'connection') continue;
    const value = line.slice(colon + 1).trim().toLowerCase();
    if (lowerName === 'content-length') {
      if (!/^\d{1,15}$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) return { status: 'error', reason: 'malformed Content-Length' };
      contentLength = Number(value);
    } else if (lowerName === 'transfer-encoding') {
      chunked = value.split(',').map((t) => t.trim()).pop() === 'chunked';
    } else {
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
