/**
 * The fast path's first look at a request head: one pass over its bytes that takes only a clean
 * head (a method Node's parser knows, a visible-ASCII target, HTTP/1.x, `Name: value` lines of
 * allowed bytes joined by CRLF)
 * and makes strings of nothing but the method, target and each header's name and value. Anything
 * else, an error or merely an unusual byte, returns undefined and is decided by the string parser
 * in request-head.ts, so both accept exactly the same heads and refuse with the same answers.
 */
import { REPLACED_FORWARDING_HEADERS } from '../forwarded-headers';
import { ACCEPTED_METHODS } from '../request-rules';
import type { ForwardingClaims } from '../security/client-address-resolver';

/** Lengths of the names that may be replaced (Host, and the forwarding headers): no other name is lower-cased for them. */
export const REPLACEABLE_LENGTHS: ReadonlySet<number> = new Set([4, ...[...REPLACED_FORWARDING_HEADERS].map((name) => name.length)]);

/** What a head says, before the shared smuggling rules judge it. */
export interface HeadFields {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  rawHeaders: string[];
  /** Connection header values, lower-cased, each followed by a comma ('' when absent). */
  connection: string;
  upgradeHeader: boolean;
  expect: string | undefined;
  forwarding: ForwardingClaims;
  /** See RequestHead.replaceable. */
  replaceable: number[] | undefined;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;

function byteTable(allowed: (byte: number) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let b = 0; b < 256; b++) table[b] = allowed(b) ? 1 : 0;
  return table;
}

const TCHAR = byteTable((b) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/.test(String.fromCharCode(b)));
// Visible ASCII only: no spaces, controls or bytes above 0x7e (Node's parser refuses them in a target).
const TARGET_BYTE = byteTable((b) => b >= 0x21 && b <= 0x7e);
// Field values: visible characters, spaces and tabs (no CR, LF, NUL or other controls).
const VALUE_BYTE = byteTable((b) => b === HT || (b >= 0x20 && b <= 0x7e) || b >= 0x80);

/**
 * The method, if one Node's parser accepts (else undefined). The ones nearly every request uses are
 * constants: no string is made for them.
 */
function knownMethod(buf: Buffer, end: number): string | undefined {
  if (end === 3 && buf[0] === 0x47 && buf[1] === 0x45 && buf[2] === 0x54) return 'GET';
  if (end === 4 && buf[0] === 0x50 && buf[1] === 0x4f && buf[2] === 0x53 && buf[3] === 0x54) return 'POST';
  if (end === 4 && buf[0] === 0x48 && buf[1] === 0x45 && buf[2] === 0x41 && buf[3] === 0x44) return 'HEAD';
  const method = buf.toString('latin1', 0, end);
  return ACCEPTED_METHODS.has(method) ? method : undefined;
}

/** "HTTP/1.1" or "HTTP/1.0" at buf[at…at+8), else undefined. */
function versionAt(buf: Buffer, at: number): '1.0' | '1.1' | undefined {
  if (buf[at] !== 0x48 || buf[at + 1] !== 0x54 || buf[at + 2] !== 0x54 || buf[at + 3] !== 0x50) return undefined;
  if (buf[at + 4] !== 0x2f || buf[at + 5] !== 0x31 || buf[at + 6] !== 0x2e) return undefined;
  const minor = buf[at + 7];
  return minor === 0x31 ? '1.1' : minor === 0x30 ? '1.0' : undefined;
}

/** buf[0…end) is the head without its final CRLFCRLF. */
export function scanCleanHead(buf: Buffer, end: number, maxHeaders: number): HeadFields | undefined {
  let i = 0;
  while (i < end && TCHAR[buf[i]] === 1) i++;
  if (i === 0 || buf[i] !== SP) return undefined;
  const method = knownMethod(buf, i++);
  if (method === undefined) return undefined;
  const targetStart = i;
  while (i < end && TARGET_BYTE[buf[i]] === 1) i++;
  if (i === targetStart || buf[i] !== SP) return undefined;
  const targetEnd = i++;
  if (i + 8 > end) return undefined;
  const version = versionAt(buf, i);
  if (version === undefined) return undefined;
  i += 8;
  if (i < end && (buf[i] !== CR || buf[i + 1] !== LF)) return undefined;

  const replaceable: number[] = [];
  const fields: HeadFields = {
    method,
    target: buf.toString('latin1', targetStart, targetEnd),
    version,
    rawHeaders: [],
    connection: '',
    upgradeHeader: false,
    expect: undefined,
    forwarding: {},
    replaceable,
  };
  let count = 0;
  for (let line = i + 2; line < end; ) {
    if (++count > maxHeaders) return undefined;
    let j = line;
    while (TCHAR[buf[j]] === 1) j++; // buf[end] is CR: the run stops there at the latest
    if (j === line || buf[j] !== COLON) return undefined;
    const nameEnd = j++;
    while (buf[j] === SP || buf[j] === HT) j++;
    const valueStart = j;
    let valueEnd = j;
    for (; j < end; j++) {
      const byte = buf[j];
      if (VALUE_BYTE[byte] !== 1) break;
      if (byte !== SP && byte !== HT) valueEnd = j + 1;
    }
    if (j < end && (buf[j] !== CR || buf[j + 1] !== LF)) return undefined;
    const name = buf.toString('latin1', line, nameEnd);
    const value = buf.toString('latin1', valueStart, valueEnd);
    fields.rawHeaders.push(name, value);
    noteHeader(fields, name, value);
    if (REPLACEABLE_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (lower === 'host') replaceable.push(line, j + 2, 1);
      else if (REPLACED_FORWARDING_HEADERS.has(lower)) replaceable.push(line, j + 2, 0);
    }
    line = j + 2;
  }
  return fields;
}

/**
 * Keeps what the relay itself needs from a header. Names are told apart by length before any is
 * lower-cased: most headers are none of these.
 */
export function noteHeader(fields: HeadFields, name: string, value: string): void {
  switch (name.length) {
    case 10:
      if (name.toLowerCase() === 'connection') fields.connection += `${value.toLowerCase()},`;
      return;
    case 7:
      if (name.toLowerCase() === 'upgrade') fields.upgradeHeader = true;
      return;
    case 6:
      if (name.toLowerCase() === 'expect') fields.expect = value.toLowerCase();
      return;
    // Repeated ones are joined as Node joins them for the full path.
    case 15:
      if (name.toLowerCase() === 'x-forwarded-for') fields.forwarding.xForwardedFor = joinRepeated(fields.forwarding.xForwardedFor, value);
      return;
    case 9:
      if (name.toLowerCase() === 'forwarded') fields.forwarding.forwarded = joinRepeated(fields.forwarding.forwarded, value);
      return;
    case 17:
      if (name.toLowerCase() === 'x-forwarded-proto') fields.forwarding.xForwardedProto = joinRepeated(fields.forwarding.xForwardedProto, value);
      return;
  }
}

function joinRepeated(earlier: string | undefined, value: string): string {
  return earlier === undefined ? value : `${earlier}, ${value}`;
}
