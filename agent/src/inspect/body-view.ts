import * as zlib from 'node:zlib';
import type { ShownBody } from '../../../protocol/inspect';

/** A decoded preview never grows past this (a small gzip can expand a lot). */
const MAX_DECODED_BYTES = 1024 * 1024;
/** Bytes of a binary body shown as hex. */
const HEX_BYTES = 1024;

function headerValue(rawHeaders: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name) return rawHeaders[i + 1];
  return undefined;
}

/**
 * Decodes a Content-Encoding. The preview may be cut short, so decoders flush what they have
 * instead of insisting on the end of the stream.
 */
function decode(bytes: Buffer, encoding: string): Buffer {
  const options = { maxOutputLength: MAX_DECODED_BYTES };
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(bytes, { ...options, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'deflate':
      // Servers send both zlib-wrapped and raw deflate under this name.
      try {
        return zlib.inflateSync(bytes, { ...options, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      } catch {
        return zlib.inflateRawSync(bytes, { ...options, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      }
    case 'br':
      return zlib.brotliDecompressSync(bytes, { ...options, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
    default:
      throw new Error(`unknown Content-Encoding "${encoding}"`);
  }
}

function looksLikeText(bytes: Buffer): boolean {
  const sample = bytes.subarray(0, 4096);
  if (sample.includes(0)) return false;
  // Valid UTF-8 round-trips (a cut multi-byte character at the very end is allowed).
  const text = sample.toString('utf8');
  return !text.slice(0, -1).includes('\uFFFD');
}

const TEXT_TYPES = /^(text\/|application\/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript|x-www-form-urlencoded|graphql))/;

/** A captured body as shown in the inspector: decoded, classified, JSON pretty-printed. */
export function showBody(bytes: Buffer, size: number, truncated: boolean, rawHeaders: string[]): ShownBody {
  const contentType = headerValue(rawHeaders, 'content-type');
  const shown: ShownBody = { size, truncated, kind: 'empty', contentType };
  if (bytes.length === 0) return shown;
  const encoding = headerValue(rawHeaders, 'content-encoding')?.trim().toLowerCase();
  let body = bytes;
  if (encoding && encoding !== 'identity') {
    try {
      body = decode(bytes, encoding);
      shown.decodedFrom = encoding;
    } catch (err) {
      shown.decodeError = (err as Error).message;
    }
  }
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type.startsWith('image/') && !shown.decodeError) {
    return { ...shown, kind: 'image', base64: body.toString('base64') };
  }
  if ((TEXT_TYPES.test(type) || type === '') && !shown.decodeError && looksLikeText(body)) {
    const text = body.toString('utf8');
    if (type.includes('json')) {
      try {
        return { ...shown, kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
      } catch {
        // Not valid JSON after all: shown as it is.
      }
    }
    return { ...shown, kind: 'text', text };
  }
  return { ...shown, kind: 'binary', hex: body.subarray(0, HEX_BYTES).toString('hex') };
}
