import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Calls onChange when the config file is replaced or edited. Watches the directory,
 * because atomic saves rename a new file over the old one (a file watch would go stale).
 */
export function watchConfigFile(file: string, onChange: () => void, debounceMs = 75): () => void {
  const dir = path.dirname(file);
  const name = path.basename(file);
  let timer: NodeJS.Timeout | undefined;
  const watcher = fs.watch(dir, (_event, changed) => {
    if (changed !== null && changed !== name) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.on('error', () => undefined);
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
