/**
 * Writes secrets (private keys, and the certificates stored beside them) so that a reader never
 * sees a half-written file and nobody but the owner can read one: 0600 in a 0700 directory,
 * written to a temporary name, fsynced, then renamed over the target.
 */
import * as fs from 'node:fs';
import { writeFileAtomic } from '../atomic-file';

export function writePrivateFileAtomic(target: string, contents: string): void {
  writeFileAtomic(target, contents, 0o600);
}

/** Reads a secret, tightening its mode to 0600 if someone loosened it. */
export function readPrivateFile(file: string): string {
  const stat = fs.statSync(file);
  if ((stat.mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  return fs.readFileSync(file, 'utf8');
}
