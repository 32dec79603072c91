import { caseMix, choose, editBytes, lineBreak, oddValue, ODD_BYTES, padding, pickOddness } from './head-mutations';
import type { SeededRandom } from './seeded-random';

/**
 * Generated HTTP response heads (latin1 text, final CRLFCRLF and sometimes bytes after it) with
 * the request method they answer: status lines good and bad, 1xx, 204, 304, HEAD answers,
 * Content-Length and Transfer-Encoding variants, repeats and conflicts, Connection lists,
 * names with whitespace around them, obs-fold, lines without a colon, bare CR/LF, controls, obs-text.
 */

const METHODS = ['GET', 'GET', 'GET', 'POST', 'HEAD', 'HEAD', 'head', 'PUT', 'OPTIONS'];
const STATUS_LINES = [
  'HTTP/1.1 200 OK',
  'HTTP/1.1 200 OK',
  'HTTP/1.0 200 OK',
  'HTTP/1.1 204 No Content',
  'HTTP/1.1 304 Not Modified',
  'HTTP/1.1 100 Continue',
  'HTTP/1.1 101 Switching Protocols',
  'HTTP/1.1 103 Early Hints',
  'HTTP/1.1 199',
  'HTTP/1.1 404 Not Found',
  'HTTP/1.1 500 Internal Server Error',
  'HTTP/1.1 200',
  'HTTP/1.1 200 ',
  'HTTP/1.1 099 Low',
  'HTTP/1.1 999 High',
  'HTTP/1.1 200 caf\xe9\tOK',
];
const ODD_STATUS_LINES = [
  'HTTP/1.1 2000 OK',
  'HTTP/1.1 20 OK',
  'HTTP/1.1  200 OK',
  'HTTP/1.1 200\tOK',
  'HTTP/1.1 -10 x',
  'HTTP/1.1 abc',
  'HTTP/2 200',
  'HTTP/1.2 200 OK',
  'http/1.1 200 OK',
  'HTTP/1.1 200 OK\r',
  'HTTP/1.1 200 O\x00K',
  'HTTP/1.1 200 O\x7fK',
  'HTTP/1.1 200 caf\xe9 \x7f\x00\t',
  'HTTP/2.0 200 OK',
  'HTTP/1.1 200 O\rK',
  'HTTP/1.1 200 O\nK',
  ' HTTP/1.1 200 OK',
  '',
];
const CONTENT_LENGTHS = ['0', '4', '12', '999999999999999', ' 4', '4 ', '4\t'];
const ODD_CONTENT_LENGTHS = ['+4', '-1', '04', '4, 4', '1e3', '0x4', '', '1000000000000000', '\xa04', '4\x0b', '\x854', '\x004'];
const TRANSFER_ENCODINGS = ['chunked', 'Chunked', 'gzip, chunked', 'gzip,chunked '];
const ODD_TRANSFER_ENCODINGS = [' chunked', 'chunked, gzip', 'chunked,', 'identity', 'chunked\xa0', 'chunked\x85', '', '\x0bchunked'];
const CONNECTIONS = ['close', 'keep-alive', 'Keep-Alive', 'CLOSE', 'keep-alive, close', 'upgrade'];
const ODD_CONNECTIONS = [' , close', ',close,', 'closed', 'close\x0b', '\xa0close', 'clo se', '', 'close\x85'];
const OTHER_HEADERS: [string, string[]][] = [
  ['Content-Type', ['text/html', 'application/json; charset=utf-8']],
  ['Date', ['Sun, 06 Dec 2026 20:00:00 GMT']],
  ['Set-Cookie', ['a=1; Path=/']],
  ['Upgrade', ['websocket']],
  ['X-Empty', ['']],
  ['Content-Length-X', ['4']],
  ['Transfer-Encodings', ['chunked']],
  ['Connections', ['close']],
];

type Header = [string, string];

export function generateResponseHead(rng: SeededRandom): { text: string; method: string } {
  const odd = pickOddness(rng);
  const method = rng.pick(METHODS);
  const headers: Header[] = [];
  const bodyKind = rng.below(4);
  if (bodyKind === 1 || rng.chance(odd)) headers.push(['Content-Length', choose(rng, odd, CONTENT_LENGTHS, ODD_CONTENT_LENGTHS)]);
  if (bodyKind === 2 || rng.chance(odd)) headers.push(['Transfer-Encoding', choose(rng, odd, TRANSFER_ENCODINGS, ODD_TRANSFER_ENCODINGS)]);
  if (rng.chance(odd)) headers.push(['Content-Length', choose(rng, odd, CONTENT_LENGTHS, ODD_CONTENT_LENGTHS)]);
  if (rng.chance(0.3)) headers.push(['Connection', choose(rng, odd, CONNECTIONS, ODD_CONNECTIONS)]);
  if (rng.chance(odd)) headers.push(['Connection', choose(rng, odd, CONNECTIONS, ODD_CONNECTIONS)]);
  for (let n = rng.below(4); n > 0; n--) {
    const [name, values] = rng.pick(OTHER_HEADERS);
    headers.push([name, rng.pick(values)]);
  }
  if (rng.chance(0.002)) headers.push(['X-Big', 'v'.repeat(65_000 + rng.below(1_000))]);
  for (let i = headers.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [headers[i], headers[j]] = [headers[j], headers[i]];
  }

  let text = choose(rng, odd, STATUS_LINES, ODD_STATUS_LINES) + lineBreak(rng, odd);
  for (const [name, value] of headers) text += headerLine(rng, odd, name, value) + lineBreak(rng, odd);
  const headEnd = text.length;
  text += '\r\n';
  if (rng.chance(odd)) text = editBytes(rng, text, headEnd);
  if (rng.chance(0.3)) text += rng.pick(['body', '4\r\nbody\r\n0\r\n\r\n', 'HTTP/1.1 200 OK\r\n\r\n', '\r\n']);
  return { text, method };
}

function headerLine(rng: SeededRandom, odd: number, name: string, value: string): string {
  let sent = caseMix(rng, name);
  if (rng.chance(odd)) {
    const change = rng.below(4);
    if (change === 0) sent = `${padding(rng, odd) || ' '}${sent}`; // whitespace before the name
    else if (change === 1) sent += padding(rng, odd) || '\t'; // or before the colon
    else if (change === 2) sent = '';
    else sent = `${sent.slice(0, 2)}${rng.pick(ODD_BYTES)}${sent.slice(2)}`;
  }
  const colon = choose(rng, odd / 5, [':'], ['', '::', ' ']);
  return `${sent}${colon}${padding(rng, odd)}${oddValue(rng, odd, value)}${padding(rng, odd)}`;
}
