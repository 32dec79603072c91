import type { SeededRandom } from './seeded-random';

/**
 * Pieces and byte-level changes shared by the generated request and response heads: the bytes
 * that parsers tend to read differently (line breaks, controls, whitespace that trim() removes
 * but a byte scan may not, obs-text). Each generated head has an oddness, the chance that any one
 * of its pieces is taken from the odd ones: most heads are clean or nearly, some are hostile.
 */

export function pickOddness(rng: SeededRandom): number {
  return rng.pick([0, 0, 0.01, 0.03, 0.1, 0.3]);
}

/** One of `usual`, or with chance `oddness` one of `odd`. */
export function choose<T>(rng: SeededRandom, oddness: number, usual: readonly T[], odd: readonly T[]): T {
  return rng.chance(oddness) ? rng.pick(odd) : rng.pick(usual);
}

/** Line breaks: CRLF, sometimes one a lenient parser would also take (or an obs-fold). */
export function lineBreak(rng: SeededRandom, oddness: number): string {
  return choose(rng, oddness / 3, ['\r\n'], ['\n', '\r', '\r\r\n', '\n\r', '\r\n ', '\r\n\t']);
}

/** Bytes that matter at a value's edges or inside it. */
export const ODD_BYTES = ['\t', ' ', '\x0b', '\x0c', '\x00', '\x01', '\x1b', '\x7f', '\x80', '\x85', '\xa0', '\xff', '\r', '\n', ',', ';', ':', '"', '\xe9'];

/** Optional whitespace (or a byte that looks like it) around a value. */
export function padding(rng: SeededRandom, oddness: number): string {
  // A no-break space now and then even in clean heads: trim() takes it, so the scan passes such a head on.
  if (!rng.chance(oddness)) return rng.chance(0.01) ? ' \xa0' : rng.pick(['', ' ', ' ', ' ', '\t', '  ']);
  let pad = '';
  for (let n = 1 + rng.below(3); n > 0; n--) pad += rng.pick([' ', '\t', ' ', '\x0b', '\x0c', '\xa0', '\x85', '\r', '\n', '\x00']);
  return pad;
}

/** The name in a random case mix, as a client may send it. */
export function caseMix(rng: SeededRandom, name: string): string {
  const style = rng.below(5);
  if (style === 0) return name.toLowerCase();
  if (style === 1) return name.toUpperCase();
  if (style === 2) return [...name].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
  return name;
}

/** A value with, sometimes, one odd byte put somewhere in it. */
export function oddValue(rng: SeededRandom, oddness: number, value: string): string {
  if (!rng.chance(oddness)) return value;
  const at = rng.below(value.length + 1);
  return value.slice(0, at) + rng.pick(ODD_BYTES) + value.slice(at);
}

/** A few random byte edits (replace, insert, delete) inside text[0…limit). */
export function editBytes(rng: SeededRandom, text: string, limit: number): string {
  let out = text;
  for (let n = 1 + rng.below(2); n > 0; n--) {
    const at = rng.below(Math.max(1, Math.min(limit, out.length)));
    const byte = rng.chance(0.6) ? rng.pick(ODD_BYTES) : String.fromCharCode(rng.below(256));
    const kind = rng.below(3);
    if (kind === 0) out = out.slice(0, at) + byte + out.slice(at + 1);
    else if (kind === 1) out = out.slice(0, at) + byte + out.slice(at);
    else out = out.slice(0, at) + out.slice(at + 1);
  }
  return out;
}
