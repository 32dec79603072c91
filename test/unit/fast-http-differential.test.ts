import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_HEADERS, MAX_REQUEST_HEAD, parseHeadText, parseRequestHead, type HeadResult } from '../../relay/src/fast-http/request-head';
import { REPLACEABLE_LENGTHS, scanCleanHead, type HeadFields } from '../../relay/src/fast-http/request-head-scan';
import { parseResponseHead } from '../../relay/src/fast-http/response-head';
import type { FastRoute } from '../../relay/src/fast-http/fast-route';
import { serializeRequestHead } from '../../relay/src/fast-http/serialize-head';
import { generateRequestHead } from '../helpers/request-head-generator';
import { generateResponseHead } from '../helpers/response-head-generator';
import { referenceParseResponseHead } from '../helpers/response-head-reference';
import { SeededRandom } from '../helpers/seeded-random';

/**
 * The fast path reads each head with two readers: request heads with a byte scan (clean heads
 * only) backed by a string parser, response heads with a byte reader that replaced a string
 * reader (kept in test/helpers as the reference). Seeded generated heads, valid and mutated,
 * hold each pair to one verdict and the same fields. The seed is in each test's name; a failure
 * names its case number and bytes. By hand: PORTWAY_DIFF_SEED / PORTWAY_DIFF_CASES run other or
 * more cases, PORTWAY_DIFF_STATS=1 prints how many cases reached each kind of answer.
 */
const SEED = Number(process.env.PORTWAY_DIFF_SEED ?? 0x17d1ff);
const CASES = Number(process.env.PORTWAY_DIFF_CASES ?? 30_000);
const seedName = `0x${SEED.toString(16)}`;

/** Runs one case; a failure is told with the case's number and bytes, to be found again. */
function withCase(kind: string, index: number, text: string, check: () => void): void {
  try {
    check();
  } catch (err) {
    const shown = text.length > 400 ? `${JSON.stringify(text.slice(0, 400))}… (${text.length} bytes)` : JSON.stringify(text);
    (err as Error).message = `${kind} case #${index} of seed ${seedName}: ${shown}\n${(err as Error).message}`;
    throw err;
  }
}

/** Cuts worth trying: one anywhere, and each byte of the final CRLFCRLF (a head split mid-CRLF). */
function cutsOf(rng: SeededRandom, length: number, end: number): number[] {
  const cuts = [rng.below(length + 1)];
  if (end >= 0) cuts.push(end, end + 1, end + 2, end + 3, end + 4);
  return cuts;
}

const fieldsOf = (fields: HeadFields) => ({ ...fields, replaceable: undefined });

describe(`fast path: the request byte scan and the string parser agree (seed ${seedName})`, () => {
  const route = (hostRewrite: string | undefined): FastRoute =>
    ({ host: 'a.localhost', key: 'a.localhost', hostRewrite, clientAddress: '1.2.3.4', forwardedFor: '1.2.3.4', clientPort: 5, proto: 'http' }) as unknown as FastRoute;

  /** The head as forwarded, read back: what the origin would see of it. */
  const forwardedFields = (head: Extract<HeadResult, { status: 'done' }>['head'], bytes: Buffer, hostRewrite: string | undefined) => {
    // The relay adds its forwarding headers: room beyond the visitor-side limit.
    const again = parseRequestHead(serializeRequestHead(head, route(hostRewrite), bytes), 2 * MAX_REQUEST_HEAD);
    assert.equal(again.status, 'done', `the forwarded head reads back${again.status === 'error' ? ` (${again.reason})` : ''}`);
    return again.status === 'done' ? { method: again.head.method, target: again.head.target, version: again.head.version, rawHeaders: again.head.rawHeaders } : undefined;
  };

  it(`${CASES} generated request heads: the same verdict and fields from both readers, whole and cut`, () => {
    const rng = new SeededRandom(SEED);
    const seen = { scanned: 0, stringOnly: 0, stringRefused: 0, judgedRefused: 0, incomplete: 0, accepted: 0 };
    const reasons = new Set<string>();
    for (let i = 0; i < CASES; i++) {
      const text = generateRequestHead(rng);
      withCase('request', i, text, () => {
        const bytes = Buffer.from(text, 'latin1');
        const end = bytes.indexOf('\r\n\r\n');
        const whole = parseRequestHead(bytes);
        if (whole.status === 'error') reasons.add(whole.reason);
        if (end < 0 || end + 4 > MAX_REQUEST_HEAD) {
          seen.incomplete++;
          assert.notEqual(whole.status, 'done');
        } else {
          // The scan may pass a head on, never read one differently: what it takes, the string
          // parser takes with the same fields (and the rules after them are shared code).
          const scanned = scanCleanHead(bytes, end, MAX_HEADERS);
          const read = parseHeadText(bytes, end);
          if (!('method' in read)) {
            seen.stringRefused++;
            assert.equal(scanned, undefined, `the scan took a head the string parser refuses (${read.status === 'error' ? read.reason : read.status})`);
            assert.deepEqual(whole, read);
          } else if (scanned === undefined) {
            seen.stringOnly++;
          } else {
            seen.scanned++;
            assert.deepEqual(fieldsOf(scanned), fieldsOf(read));
            assertReplaceableLines(bytes, scanned);
          }
          if (whole.status === 'error' && 'method' in read) seen.judgedRefused++;
          if (whole.status === 'done') {
            seen.accepted++;
            assert.ok('method' in read);
            assert.deepEqual({ method: whole.head.method, target: whole.head.target, version: whole.head.version, rawHeaders: whole.head.rawHeaders }, {
              method: read.method,
              target: read.target,
              version: read.version,
              rawHeaders: read.rawHeaders,
            });
            assert.equal(whole.head.size, end + 4);
            // Forwarded as its own bytes (scanned) or rebuilt (string parser): the origin reads the same head.
            // (Not for a head near the header-count limit: the three added would pass it.)
            if (whole.head.replaceable !== undefined && whole.head.rawHeaders.length / 2 + 3 <= MAX_HEADERS) {
              const hostRewrite = i % 2 === 0 ? undefined : 'inner:8080'; // half the routes rewrite Host
              const rebuilt = forwardedFields({ ...whole.head, replaceable: undefined }, bytes, hostRewrite);
              assert.deepEqual(forwardedFields(whole.head, bytes, hostRewrite), rebuilt, `forwarded with Host rewrite ${hostRewrite}`);
            }
          }
        }
        for (const cut of cutsOf(rng, bytes.length, end)) {
          const part = parseRequestHead(bytes.subarray(0, cut));
          if (end >= 0 && cut >= end + 4) assert.deepEqual(part, whole, `cut at ${cut}`);
          else if (part.status === 'error') assert.equal(whole.status, 'error', `refused early at cut ${cut} (${part.reason}) but not whole`);
          else assert.equal(part.status, 'need-more', `cut at ${cut}`);
        }
      });
    }
    if (process.env.PORTWAY_DIFF_STATS) console.log(seen, [...reasons]);
    // The generator must keep reaching every kind of answer, or agreement proves little. Not
    // stringOnly: since only SP and HTAB are trimmed from values (no more no-break spaces for the
    // string parser alone), the scan takes every head the string parser accepts.
    const floor = Math.floor(CASES / 100);
    for (const [kind, count] of Object.entries(seen)) if (kind !== 'stringOnly') assert.ok(count >= floor, `only ${count} of ${CASES} cases were ${kind}: ${JSON.stringify(seen)}`);
    assert.ok(reasons.size >= 15, `only ${reasons.size} refusal reasons seen: ${[...reasons].join('; ')}`);
  });
});

/** The scan's replaceable lines are exactly the Host and forwarding header lines, CRLF included. */
function assertReplaceableLines(bytes: Buffer, fields: HeadFields): void {
  const lines = fields.replaceable ?? [];
  const expected: string[] = [];
  for (let i = 0; i < fields.rawHeaders.length; i += 2) {
    const name = fields.rawHeaders[i];
    if (REPLACEABLE_LENGTHS.has(name.length) && /^(host|x-forwarded-for|x-forwarded-proto|x-forwarded-host|forwarded)$/i.test(name)) expected.push(name.toLowerCase());
  }
  const found: string[] = [];
  for (let i = 0; i < lines.length; i += 3) {
    const line = bytes.toString('latin1', lines[i], lines[i + 1]);
    assert.ok(line.endsWith('\r\n') && !line.slice(0, -2).includes('\n'), `replaceable line ${JSON.stringify(line)}`);
    const name = line.slice(0, line.indexOf(':')).toLowerCase();
    assert.equal(lines[i + 2], name === 'host' ? 1 : 0, `${name} marked as Host or not`);
    found.push(name);
  }
  assert.deepEqual(found, expected);
}

describe(`fast path: the response byte reader and the earlier string reader agree (seed ${seedName})`, () => {
  it(`${CASES} generated response heads: the same verdict, status, framing, close and size, whole and cut`, () => {
    const rng = new SeededRandom(SEED ^ 0x5a5a5a5a);
    const seen = { done: 0, error: 0, incomplete: 0, length: 0, chunked: 0, none: 0, untilClose: 0, close: 0 };
    for (let i = 0; i < CASES; i++) {
      const { text, method } = generateResponseHead(rng);
      withCase('response', i, text, () => {
        const bytes = Buffer.from(text, 'latin1');
        const actual = parseResponseHead(bytes, method);
        assert.deepEqual(actual, referenceParseResponseHead(bytes, method), `answering ${method}`);
        if (actual.status === 'done') {
          seen.done++;
          const kind = actual.head.framing.kind;
          if (kind === 'until-close') seen.untilClose++;
          else seen[kind]++;
          if (actual.head.close && kind !== 'until-close') seen.close++;
        } else if (actual.status === 'error') seen.error++;
        else seen.incomplete++;
        for (const cut of cutsOf(rng, bytes.length, bytes.indexOf('\r\n\r\n'))) {
          const part = bytes.subarray(0, cut);
          const partly = parseResponseHead(part, method);
          assert.deepEqual(partly, referenceParseResponseHead(part, method), `cut at ${cut}, answering ${method}`);
          // Whole heads are rarely incomplete now (a fault is told before the head ends): cuts count too.
          if (partly.status === 'need-more') seen.incomplete++;
        }
      });
    }
    if (process.env.PORTWAY_DIFF_STATS) console.log(seen);
    const floor = Math.floor(CASES / 200);
    for (const [kind, count] of Object.entries(seen)) assert.ok(count >= floor, `only ${count} of ${CASES} cases were ${kind}: ${JSON.stringify(seen)}`);
  });
});
