import * as fs from 'node:fs';

/**
 * Which version of a file is on disk: inode, mtime (ns) and size. An atomic save renames a new
 * inode over the old one and an in-place edit changes mtime, so a watcher can tell the agent's
 * own save from an outside edit without reading the file.
 */
export function fileStamp(file: string): string | undefined {
  const stat = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  return stat ? `${stat.ino}:${stat.mtimeNs}:${stat.size}` : undefined;
}
