/**
 * The relay's one set of request-smuggling rules, applied by both front ends: the fast path's
 * own head parser (fast-http/request-head.ts) and the full path (Node's parser, relay-server.ts).
 * Whatever one refuses the other refuses with the same status (400; 501 for what the relay does
 * not forward at all: CONNECT and `OPTIONS *`), so no request can choose the
 * lenient path (test/e2e/smuggling-both-paths.test.ts feeds every case to both). An unsupported
 * Transfer-Encoding is a 400 too, not a 501: Node's parser refuses most of them itself, with 400.
 */

import { METHODS } from 'node:http';

/**
 * The methods a request may have: those Node's parser takes on the full path (case matters: `get`
 * is refused). Both of the fast path's readers check it too, so an unknown method (or `PRI`, the
 * HTTP/2 preface) is a 400 on both paths.
 */
export const ACCEPTED_METHODS: ReadonlySet<string> = new Set(METHODS);

/** How a request's body is delimited. */
export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

/** ok: where the body ends and which Host names the route; otherwise why it is refused (with 400). */
export type RequestVerdict = { ok: true; host: string | undefined; body: BodyFraming } | { ok: false; status: 400 | 501; reason: string };

export interface RequestFacts {
  method: string;
  target: string;
  version: string;
  /** Header names and values, alternating, in order (Node's rawHeaders shape). */
  rawHeaders: readonly string[];
}

const refuse = (reason: string, status: 400 | 501 = 400): RequestVerdict => ({ ok: false, status, reason });
/** Shared by every request without a body (most of them): not to be changed. */
const NO_BODY: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };

/**
 * Refuses a request whose framing or routing is ambiguous: repeated Host, Content-Length or
 * Transfer-Encoding, both of the latter, a Transfer-Encoding other than plain "chunked", a
 * Content-Length that is not plain digits, no Host in HTTP/1.1, a target a tunnel front does not
 * take. Otherwise says where the body ends and which Host names the route.
 */
export function judgeRequest(request: RequestFacts): RequestVerdict {
  let host: string | undefined;
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // Length first: most headers are none of these three, and this skips lower-casing them.
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (host !== undefined) return refuse('more than one Host header');
      host = raw[i + 1];
    } else if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (contentLength !== undefined) return refuse('more than one Content-Length header');
      contentLength = raw[i + 1];
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      if (transferEncoding !== undefined) return refuse('more than one Transfer-Encoding header');
      transferEncoding = raw[i + 1];
    }
  }
  if (request.version === '1.1' && host === undefined) return refuse('missing Host header');
  if (!acceptedTarget(request.method, request.target)) return refuse('malformed request target');
  // A tunnel forwards requests for resources: a proxy tunnel (CONNECT) or a question to the
  // server itself (OPTIONS *) has no origin resource to go to.
  if (request.method === 'CONNECT') return refuse('CONNECT is not supported', 501);
  if (request.target === '*') return refuse('a request for "*" is not supported', 501);
  if (transferEncoding !== undefined) {
    if (contentLength !== undefined) return refuse('both Content-Length and Transfer-Encoding');
    // Values come with their OWS (SP, HTAB) trimmed by either parser, and nothing else: a no-break
    // space or other byte trim() would also take makes the value something other than "chunked".
    if (transferEncoding.toLowerCase() !== 'chunked') return refuse('unsupported Transfer-Encoding');
    return { ok: true, host, body: CHUNKED };
  }
  if (contentLength === undefined) return { ok: true, host, body: NO_BODY };
  if (!/^\d{1,15}$/.test(contentLength)) return refuse('malformed Content-Length');
  const length = Number(contentLength);
  return { ok: true, host, body: length > 0 ? { kind: 'length', length } : NO_BODY };
}

/** Origin-form ("/path"), "*", CONNECT's authority, or an absolute http(s) URL (RFC 9112 §3.2). */
function acceptedTarget(method: string, target: string): boolean {
  return target.startsWith('/') || target === '*' || method === 'CONNECT' || /^https?:\/\//i.test(target);
}
