/**
 * A strict HTTP/1.1 request-head parser for the relay's fast path. It reads only the
 * head; bodies are forwarded as raw bytes (with their framing checked by body-framing.ts).
 * A clean head is read by one byte scan (request-head-scan.ts); any other by the string parser
 * below, which gives each refusal its reason.
 * Its own syntax checks are what Node's parser enforces on the full path (a method it knows,
 * a visible-ASCII target, bare LF, obs-fold, whitespace before a colon, control characters, only
 * SP and HTAB trimmed from values); the smuggling rules both paths share
 * (framing, Host, request target) are judgeRequest's, in ../request-rules.ts.
 */
import { ACCEPTED_METHODS, judgeRequest, type BodyFraming } from '../request-rules';
import type { ForwardingClaims } from '../security/client-address-resolver';
import { noteHeader, scanCleanHead, type HeadFields } from './request-head-scan';

export const MAX_REQUEST_HEAD = 16 * 1024;
export const MAX_HEADERS = 100;

export interface RequestHead {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  /** Header names as sent and their values (trimmed), alternating, in order. */
  rawHeaders: string[];
  host: string | undefined;
  body: BodyFraming;
  /** Connection: close (or HTTP/1.0 without keep-alive). */
  close: boolean;
  /** An Upgrade request (e.g. WebSocket). */
  upgrade: boolean;
  expectContinue: boolean;
  /** X-Forwarded-For / Forwarded / X-Forwarded-Proto as sent, believed only from a trusted proxy. */
  forwarding: ForwardingClaims;
  /** Bytes the head took in the buffer, CRLFCRLF included. */
  size: number;
  /**
   * Where the Host and forwarding header lines sit in the head's bytes, as (start, end, 1 for Host
   * else 0) triples: the head can be forwarded as its own bytes with only these lines changed.
   * Undefined for a head the string parser read: it is rebuilt from rawHeaders.
   */
  replaceable: readonly number[] | undefined;
}

export type HeadResult = { status: 'need-more' } | { status: 'done'; head: RequestHead } | { status: 'error'; code: 400 | 431 | 501 | 505; reason: string };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII only: no spaces, controls or bytes above 0x7e (as Node's parser on the full path).
const TARGET = /^[\x21-\x7e]+$/;
// Field values: visible characters, spaces and tabs (no CR, LF, NUL or other controls).
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const OWS_EDGES = /^[ \t]+|[ \t]+$/g;

const NEED_MORE: HeadResult = { status: 'need-more' };
const fail = (code: 400 | 431 | 501 | 505, reason: string): HeadResult => ({ status: 'error', code, reason });

/** Parses the head at the start of buf. */
export function parseRequestHead(buf: Buffer, maxHeadSize = MAX_REQUEST_HEAD): HeadResult {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) {
    if (buf.length > maxHeadSize) return fail(431, 'request head too large');
    // A bare LF line break can never become valid: refuse early instead of waiting.
    const lf = buf.indexOf(10);
    if (lf >= 0 && (lf === 0 || buf[lf - 1] !== 13)) return fail(400, 'bare LF in the request head');
    return NEED_MORE;
  }
  if (end + 4 > maxHeadSize) return fail(431, 'request head too large');
  const fields = scanCleanHead(buf, end, MAX_HEADERS) ?? parseHeadText(buf, end);
  if (!('method' in fields)) return fields;
  const { method, target, version, rawHeaders } = fields;
  const verdict = judgeRequest({ method, target, version, rawHeaders });
  if (!verdict.ok) return fail(verdict.status, verdict.reason);
  let close = version === '1.0';
  let upgrade = false;
  if (fields.connection !== '') {
    const tokens = fields.connection.split(',').map((t) => t.trim());
    close = tokens.includes('close') || (version === '1.0' && !tokens.includes('keep-alive'));
    upgrade = fields.upgradeHeader && tokens.includes('upgrade');
  }
  return {
    status: 'done',
    head: { method, target, version, rawHeaders, host: verdict.host, body: verdict.body, close, upgrade, expectContinue: fields.expect === '100-continue', forwarding: fields.forwarding, size: end + 4, replaceable: fields.replaceable },
  };
}

/**
 * The careful parser, for heads the byte scan does not take: latin1 decoding keeps one char per
 * byte, and each rule is checked in order, so a refused head gets the first reason that applies.
 * Exported for the differential test, which holds the byte scan to this parser's answers.
 */
export function parseHeadText(buf: Buffer, end: number): HeadFields | HeadResult {
  const text = buf.toString('latin1', 0, end);
  const lines = text.split('\r\n');
  for (const line of lines) if (line.includes('\n') || line.includes('\r')) return fail(400, 'bare CR or LF in the request head');
  const requestLine = lines[0];
  const firstSpace = requestLine.indexOf(' ');
  const lastSpace = requestLine.lastIndexOf(' ');
  if (firstSpace <= 0 || lastSpace === firstSpace) return fail(400, 'malformed request line');
  const method = requestLine.slice(0, firstSpace);
  const target = requestLine.slice(firstSpace + 1, lastSpace);
  const versionText = requestLine.slice(lastSpace + 1);
  if (!TOKEN.test(method)) return fail(400, 'malformed method');
  if (!ACCEPTED_METHODS.has(method)) return fail(400, 'unknown method');
  if (!TARGET.test(target)) return fail(400, 'malformed request target');
  if (versionText !== 'HTTP/1.1' && versionText !== 'HTTP/1.0') return fail(505, 'only HTTP/1.0 and HTTP/1.1 are served');
  if (lines.length - 1 > MAX_HEADERS) return fail(431, 'too many headers');

  const version = versionText === 'HTTP/1.1' ? '1.1' : '1.0';
  const fields: HeadFields = { method, target, version, rawHeaders: [], connection: '', upgradeHeader: false, expect: undefined, forwarding: {}, replaceable: undefined };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.length === 0) return fail(400, 'empty header line');
    if (line[0] === ' ' || line[0] === '\t') return fail(400, 'obsolete line folding');
    const colon = line.indexOf(':');
    if (colon <= 0) return fail(400, 'header without a colon');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return fail(400, 'malformed header name (whitespace before the colon?)');
    const rawValue = line.slice(colon + 1);
    if (!VALUE.test(rawValue)) return fail(400, 'control character in a header value');
    // Only OWS (SP, HTAB) is trimmed, as Node's parser does: trim() would also take a no-break
    // space off a Host value's edges, and route it where the full path would not.
    const value = rawValue.replace(OWS_EDGES, '');
    fields.rawHeaders.push(name, value);
    noteHeader(fields, name, value);
  }
  return fields;
}
