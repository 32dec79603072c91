/**
 * Turns a request target into path segments that are safe to join below the
 * webroot, or says why not. This is the syntactic half of traversal defence; the
 * other half (symlinks) is in resolve-file.ts.
 */

export type RequestPath =
  | { kind: 'ok'; segments: string[]; trailingSlash: boolean; query: string }
  | { kind: 'bad-request' }
  | { kind: 'forbidden' };

export function parseRequestPath(url: string, platform: NodeJS.Platform = process.platform): RequestPath {
  // Only origin-form ("/…") reaches a route handler; anything else is malformed.
  if (!url.startsWith('/')) return { kind: 'bad-request' };
  const queryAt = url.indexOf('?');
  const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt);

  const rawSegments = rawPath.split('/').slice(1);
  const trailingSlash = rawSegments[rawSegments.length - 1] === '';
  const segments: string[] = [];
  for (const raw of rawSegments) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { kind: 'bad-request' }; // "%zz", a lone "%", or bytes that are not UTF-8
    }
    // Empty segments ("//") collapse, like every file server; keeping them would also
    // let "//evil.example" leak into a redirect Location as a protocol-relative URL.
    if (segment === '') continue;
    // Decoding must not create structure: an encoded "/" or "\" is a separator in
    // disguise, ".." is traversal, and "." never comes from a real client.
    if (segment === '.' || segment === '..') return { kind: 'forbidden' };
    if (/[/\\\0]/.test(segment)) return { kind: 'forbidden' };
    // Windows: "C:" drive prefixes and "name::$DATA" streams.
    if (platform === 'win32' && segment.includes(':')) return { kind: 'forbidden' };
    segments.push(segment);
  }
  return { kind: 'ok', segments, trailingSlash, query };
}

/** The canonical URL path for segments, re-encoded; used to build redirects. */
export function encodeSegments(segments: readonly string[]): string {
  return '/' + segments.map(encodeURIComponent).join('/');
}
