import * as path from 'node:path';

/**
 * Extension → media type. Deliberately small: the common web formats a dev server
 * hands out. Anything else is served as application/octet-stream so a browser
 * never guesses (X-Content-Type-Options: nosniff is set beside it).
 */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html',
  '.htm': 'text/html',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.cjs': 'text/javascript',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.xml': 'application/xml',
  '.yaml': 'text/yaml',
  '.yml': 'text/yaml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.bmp': 'image/bmp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
};

/** Types that are text although not text/*; they get a charset too. */
const TEXTUAL = new Set(['application/json', 'application/manifest+json', 'application/xml', 'image/svg+xml']);

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The Content-Type header value for a file name, with charset=utf-8 for text. */
export function contentTypeFor(fileName: string): string {
  const type = TYPES[path.extname(fileName).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
  return type.startsWith('text/') || TEXTUAL.has(type) ? `${type}; charset=utf-8` : type;
}
