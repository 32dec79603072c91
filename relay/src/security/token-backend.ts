/**
 * Where the token set lives: the data directory's tokens.json (one relay, the default) or Redis
 * (several relays, cluster/redis-token-backend.ts). The store keeps the logic (hashing, validation,
 * change lists); a backend only reads, writes and says when someone else changed the set.
 */
import { promises as fsp, watch as watchFs } from 'node:fs';
import path from 'node:path';
import { readJsonFileAsync, writeJsonFileAtomicAsync } from '../../../common/json-file';
import type { DocumentBackend } from '../document-backend';

export const TOKENS_FILE = 'tokens.json';

/** The token set is one document (see document-backend.ts). */
export type TokenBackend = DocumentBackend;

/** tokens.json in the data directory, replaced atomically; the directory is watched for the CLI's changes. */
export class FileTokenBackend implements TokenBackend {
  readonly location: string;

  private constructor(private readonly dataDir: string) {
    this.location = path.join(dataDir, TOKENS_FILE);
  }

  static async open(dataDir: string): Promise<FileTokenBackend> {
    await fsp.mkdir(dataDir, { recursive: true, mode: 0o700 });
    return new FileTokenBackend(dataDir);
  }

  read(): Promise<unknown> {
    return readJsonFileAsync(this.location);
  }

  write(document: unknown): Promise<void> {
    return writeJsonFileAtomicAsync(this.location, document);
  }

  watch(onChange: () => void, onError: (err: Error) => void): () => void {
    const watcher = watchFs(this.dataDir, (_event, filename) => {
      // Some platforms omit the name; reload then, a spare reload is harmless.
      if (!filename || filename.toString() === TOKENS_FILE) onChange();
    });
    watcher.on('error', onError);
    return () => watcher.close();
  }
}
