/**
 * Where a JSON document of the relay's state lives (tokens, verified custom domains): a file in
 * the data directory (one relay, the default) or a Redis key (several relays,
 * cluster/redis-document-backend.ts). Stores keep the logic and validation; a backend only reads,
 * writes and says when someone else changed the document.
 */
import { readJsonFileAsync, writeJsonFileAtomicAsync } from '../../common/json-file';

export interface DocumentBackend {
  /** Names the place in error messages (a file path, a Redis key). */
  readonly location: string;
  /** The stored document, or undefined when there is none yet. */
  read(): Promise<unknown>;
  write(document: unknown): Promise<void>;
  /** Calls onChange (maybe spuriously) when the document may have changed elsewhere; returns a stop function. */
  watch(onChange: () => void, onError: (err: Error) => void): () => void;
}

/** A JSON file replaced atomically; nobody else writes it while the relay runs (not watched). */
export class FileDocumentBackend implements DocumentBackend {
  constructor(readonly location: string) {}

  read(): Promise<unknown> {
    return readJsonFileAsync(this.location);
  }

  write(document: unknown): Promise<void> {
    return writeJsonFileAtomicAsync(this.location, document);
  }

  watch(): () => void {
    return () => undefined;
  }
}
