/**
 * ETag / Last-Modified and the conditional-request rules built on them
 * (RFC 9110 §13). The ETag is weak: size and mtime say "same content" with high
 * probability but not byte-for-byte certainty, which is what W/ means.
 */

export interface FileValidators {
  etag: string;
  lastModified: string;
  /** mtime in whole seconds, the precision of HTTP dates. */
  mtimeSeconds: number;
}

export function validatorsFor(size: number, mtimeMs: number): FileValidators {
  return {
    etag: `W/"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`,
    lastModified: new Date(mtimeMs).toUTCString(),
    mtimeSeconds: Math.floor(mtimeMs / 1000),
  };
}

/** Strips the weak prefix: If-None-Match uses weak comparison. */
function opaqueTag(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/** True when a GET/HEAD may be answered with 304 Not Modified. */
export function isNotModified(headers: Record<string, string>, v: FileValidators): boolean {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    // When If-None-Match is present, If-Modified-Since is ignored (§13.1.3).
    if (ifNoneMatch.trim() === '*') return true;
    const mine = opaqueTag(v.etag);
    return ifNoneMatch.split(',').some((tag) => opaqueTag(tag.trim()) === mine);
  }
  const ifModifiedSince = headers['if-modified-since'];
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && v.mtimeSeconds <= Math.floor(since / 1000);
  }
  return false;
}

/**
 * If-Range (§13.1.5): the range applies only if the validator still matches.
 * It needs a strong match, which a weak ETag can never give, so only the date
 * form can keep a range alive here.
 */
export function ifRangeAllowsRange(headers: Record<string, string>, v: FileValidators): boolean {
  const ifRange = headers['if-range'];
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return false;
  const date = Date.parse(value);
  return !Number.isNaN(date) && Math.floor(date / 1000) === v.mtimeSeconds;
}
