import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/**
 * The filesystem half of traversal defence: a candidate path is resolved through
 * every symlink and must still lie inside the (also resolved) root.
 */
export type Resolved =
  | { kind: 'found'; realPath: string }
  | { kind: 'missing' }
  | { kind: 'forbidden' };

/** Errors that just mean "there is nothing servable there". */
const MISSING_CODES = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);
const DENIED_CODES = new Set(['EACCES', 'EPERM']);

export function isInside(rootReal: string, candidate: string): boolean {
  if (candidate === rootReal) return true;
  // The trailing separator keeps "/srv/www-private" from passing as inside "/srv/www".
  const prefix = rootReal.endsWith(path.sep) ? rootReal : rootReal + path.sep;
  return candidate.startsWith(prefix);
}

export async function resolveInside(rootReal: string, candidate: string): Promise<Resolved> {
  let realPath: string;
  try {
    realPath = await fsp.realpath(candidate);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (MISSING_CODES.has(code)) return { kind: 'missing' };
    if (DENIED_CODES.has(code)) return { kind: 'forbidden' };
    throw err;
  }
  return isInside(rootReal, realPath) ? { kind: 'found', realPath } : { kind: 'forbidden' };
}

/** True if any path segment below the root is hidden ("."-prefixed), except .well-known. */
export function hasHiddenSegment(segments: readonly string[]): boolean {
  return segments.some((s) => s.startsWith('.') && s !== '.well-known');
}
