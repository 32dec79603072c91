/**
 * Where agent identities → hostnames live: the data directory's identities.json (one relay, the
 * default) or Redis (several relays, cluster/redis-identity-backend.ts). The store keeps the rules
 * (who may have which name) and an in-memory copy; a backend loads, saves one change, and tells
 * the store about records other relays wrote.
 */
import * as path from 'node:path';
import { JsonFileError, readJsonFile, writeJsonFileAtomic } from '../../common/json-file';

export interface IdentityRecord {
  hostname: string;
  createdAt: string;
}

export interface IdentityBackend {
  /** Every stored identity (identity id → record), read once when the store opens. */
  load(): Map<string, IdentityRecord>;
  /** Persists one identity's new record; `all` is the store's whole set after the change. */
  save(identityId: string, record: IdentityRecord, all: ReadonlyMap<string, IdentityRecord>): void;
  /** Records written elsewhere (another relay) arrive here; the file backend has none. */
  onRemote?(listener: (identityId: string, record: IdentityRecord) => void): void;
}

interface StoredIdentities {
  version: 1;
  identities: Record<string, IdentityRecord>;
}

/** identities.json in the data directory, replaced atomically on every change. */
export class FileIdentityBackend implements IdentityBackend {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'identities.json');
  }

  load(): Map<string, IdentityRecord> {
    const loaded = new Map<string, IdentityRecord>();
    const data = readJsonFile(this.file) as StoredIdentities | undefined;
    if (data === undefined) return loaded;
    if (typeof data !== 'object' || data === null || typeof data.identities !== 'object' || data.identities === null) {
      throw new JsonFileError(this.file, 'has an unexpected shape; fix or remove it');
    }
    for (const [id, record] of Object.entries(data.identities)) {
      if (typeof record?.hostname === 'string') loaded.set(id, record);
    }
    return loaded;
  }

  save(_identityId: string, _record: IdentityRecord, all: ReadonlyMap<string, IdentityRecord>): void {
    writeJsonFileAtomic(this.file, { version: 1, identities: Object.fromEntries(all) } satisfies StoredIdentities);
  }
}
