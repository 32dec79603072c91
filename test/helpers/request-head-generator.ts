import { caseMix, choose, editBytes, lineBreak, oddValue, ODD_BYTES, padding, pickOddness } from './head-mutations';
import type { SeededRandom } from './seeded-random';

/**
 * Generated HTTP request heads (latin1 text, final CRLFCRLF and sometimes bytes after it): mostly
 * valid ones, and the changes that matter for smuggling and routing (Content-Length and
 * Transfer-Encoding variants and repeats, Host missing, repeated or odd, obs-fold, bare CR/LF,
 * controls, whitespace before a colon, absolute-form targets, HTTP/1.0, Upgrade/Connection lists,
 * non-ASCII bytes, unknown and lower-case methods, the header-count and size limits).
 */

const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'M-SEARCH', 'PROPFIND'];
// Unknown or lower-case methods and PRI (the HTTP/2 preface) are refused, as by Node's parser.
const ODD_METHODS = ['CONNECT', 'PRI', 'G(T', 'G\xc9T', 'GET\t', '', 'G\x00T', 'get', 'Get', 'FOO', 'GETS'];
const TARGETS = ['/', '/', '/a?b=1', '/path/to/x.html?q=%20&r', 'http://a.localhost/x', 'HTTPS://A.LOCALHOST:443/', '/caf%C3%A9', '*'];
const ODD_TARGETS = ['a.localhost:443', '//double', 'ftp://a/', '/a\x7fb', '/a\x00b', '/a b', '/a\tb', '', `/${'p'.repeat(3000)}`, 'http:/x', '/\x85', '/caf\xe9', '/\xff'];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'];
const ODD_VERSIONS = ['HTTP/2.0', 'HTTP/1.2', 'http/1.1', 'HTTP/1.10', 'HTTP/1', 'HTTP/1.1 ', ' HTTP/1.1', '', 'HTTP/0.9'];
const HOSTS = ['a.localhost', 'a.localhost', 'A.LOCALHOST', 'a.localhost:8080', '[::1]', '[::1]:8080', '127.0.0.1', 'xn--caf-dma.localhost'];
// A no-break space is kept in a value (only SP and HTAB are trimmed): it must not route as a.localhost.
const ODD_HOSTS = ['', 'a b', 'a.localhost, b.localhost', 'caf\xe9.localhost', '@evil', 'a.localhost\x00', '\xa0a.localhost', 'a.localhost\xa0'];
const CONTENT_LENGTHS = ['0', '5', '12', '999999999999999'];
const ODD_CONTENT_LENGTHS = [' 5', '5 ', '+5', '-1', '05', '5, 5', '1e3', '0x5', '', '1000000000000000', '5\t', '\xa05', '5\x0b', '\x855'];
const TRANSFER_ENCODINGS = ['chunked', 'Chunked', 'CHUNKED', 'chunked '];
const ODD_TRANSFER_ENCODINGS = [' chunked', 'chunked, gzip', 'gzip, chunked', 'chunked,', ',chunked', 'identity', 'chunked\t', '\x0bchunked', 'chunked\xa0', 'chunk', '', 'chunked\x85'];
const CONNECTIONS = ['close', 'keep-alive', 'Keep-Alive', 'Upgrade', 'upgrade, keep-alive', 'Keep-Alive, Close', 'CLOSE', 'TE, close'];
const ODD_CONNECTIONS = [' , close', 'closed', 'close\x0b', '', '\xa0close', 'clo\x00se'];
const OTHER_HEADERS: [string, string[]][] = [
  ['Accept', ['*/*', 'text/html, application/json;q=0.9']],
  ['User-Agent', ['curl/8.0', 'Mozilla/5.0 (X11; Linux x86_64)']],
  ['Upgrade', ['websocket', 'h2c', 'WebSocket']],
  ['Expect', ['100-continue', '100-Continue', '200-ok']],
  ['X-Forwarded-For', ['9.9.9.9', '1.1.1.1, 2.2.2.2']],
  ['Forwarded', ['for=1.2.3.4;proto=https', 'for="[::1]"']],
  ['X-Forwarded-Proto', ['https', 'http']],
  ['X-Forwarded-Host', ['evil.localhost']],
  ['Cookie', ['a=1; b=2']],
  ['X-Empty', ['']],
  ['X-Quoted', ['"a, b"', 'caf\xe9', 'a\xa0b', 'a \t b']],
];

type Header = [string, string];

export function generateRequestHead(rng: SeededRandom): string {
  const odd = pickOddness(rng);
  const headers: Header[] = [];
  const version = choose(rng, odd, VERSIONS, ODD_VERSIONS);
  if (!rng.chance(odd + 0.02)) headers.push(['Host', choose(rng, odd, HOSTS, ODD_HOSTS)]);
  if (rng.chance(odd / 2)) headers.push(['Host', choose(rng, odd, HOSTS, ODD_HOSTS)]);
  const bodyKind = rng.below(4);
  if (bodyKind === 1 || rng.chance(odd / 2)) headers.push(['Content-Length', choose(rng, odd, CONTENT_LENGTHS, ODD_CONTENT_LENGTHS)]);
  if (bodyKind === 2 || rng.chance(odd / 2)) headers.push(['Transfer-Encoding', choose(rng, odd, TRANSFER_ENCODINGS, ODD_TRANSFER_ENCODINGS)]);
  if (rng.chance(odd / 2)) headers.push(rng.chance(0.5) ? ['Content-Length', choose(rng, odd, CONTENT_LENGTHS, ODD_CONTENT_LENGTHS)] : ['Transfer-Encoding', 'chunked']);
  if (rng.chance(0.3)) headers.push(['Connection', choose(rng, odd, CONNECTIONS, ODD_CONNECTIONS)]);
  for (let n = rng.below(5); n > 0; n--) {
    const [name, values] = rng.pick(OTHER_HEADERS);
    headers.push([name, rng.pick(values)]);
  }
  if (rng.chance(0.01)) for (let n = 95 + rng.below(10); n > 0; n--) headers.push([`X-${n}`, `${n}`]);
  if (rng.chance(0.005)) headers.push(['X-Big', 'v'.repeat(15_500 + rng.below(1_500))]);
  shuffle(rng, headers);

  let text = requestLine(rng, odd, version) + lineBreak(rng, odd);
  for (const [name, value] of headers) text += headerLine(rng, odd, name, value) + lineBreak(rng, odd);
  const headEnd = text.length;
  text += '\r\n';
  if (rng.chance(odd)) text = editBytes(rng, text, headEnd);
  if (rng.chance(0.3)) text += rng.pick(['hello', '0\r\n\r\n', 'GET / HTTP/1.1\r\nHost: b\r\n\r\n', '\n\r\n', '\r\n']);
  return text;
}

function requestLine(rng: SeededRandom, odd: number, version: string): string {
  const space = () => choose(rng, odd / 3, [' '], ['  ', '\t', '']);
  const method = choose(rng, odd, METHODS, ODD_METHODS);
  const target = choose(rng, odd, TARGETS, ODD_TARGETS);
  if (rng.chance(odd / 10)) return `${method} ${target}`; // HTTP/0.9 style, no version
  return `${method}${space()}${target}${space()}${version}`;
}

function headerLine(rng: SeededRandom, odd: number, name: string, value: string): string {
  let sent = caseMix(rng, name);
  if (rng.chance(odd / 2)) {
    const change = rng.below(5);
    if (change === 0) sent += ' '; // whitespace before the colon
    else if (change === 1) sent += '\t';
    else if (change === 2) sent = ''; // an empty name
    else if (change === 3) sent = ` ${sent}`; // obs-fold: a continuation of the line before
    else sent = `${sent.slice(0, 1)}${rng.pick(ODD_BYTES)}${sent.slice(1)}`;
  }
  const colon = choose(rng, odd / 10, [':'], ['', '::']);
  return `${sent}${colon}${padding(rng, odd)}${oddValue(rng, odd, value)}${padding(rng, odd)}`;
}

function shuffle<T>(rng: SeededRandom, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
}
