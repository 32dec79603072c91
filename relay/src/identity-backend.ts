/**
 * Where agent identities → hostnames live: the data directory's identities.json (one relay, the
 * default) or Redis (several relays, cluster/redis-identity-backend.ts). The store keeps the rules
 * (who may have which name, how many per token, what is reclaimed) and an in-memory copy; a
 * backend loads, persists changes, and tells the store about records other relays wrote.
 */
import * as path from 'node:path';
import { JsonFileError, readJsonFile, writeJsonFileAtomic } from '../../common/json-file';

export interface IdentityRecord {
  hostname: string;
  createdAt: string;
  /** Last hello or session end (ISO 8601); reclaiming goes by it. Older files lack it: createdAt then. */
  lastSeenAt?: string;
  /** The token that holds this identity (counted against its --max-identities); absent: AUTH_KEY or an open relay. */
  tokenId?: string;
  /** The agent asked for this hostname: a reservation, never reclaimed. */
  requested?: boolean;
}

export interface IdentityBackend {
  /** Every stored identity (identity id → record), read once when the store opens. */
  load(): Map<string, IdentityRecord>;
  /** Persists one identity's new record; `all` is the store's whole set after the change. */
  save(identityId: string, record: IdentityRecord, all: ReadonlyMap<string, IdentityRecord>): void;
  /** Forgets reclaimed identities (with the records they were reclaimed as); `all` is what is left. */
  forget(forgotten: ReadonlyMap<string, IdentityRecord>, all: ReadonlyMap<string, IdentityRecord>): void;
  /** Records written (or forgotten: undefined) elsewhere, by another relay, arrive here; the file backend has none. */
  onRemote?(listener: (identityId: string, record: IdentityRecord | undefined) => void): void;
}

interface StoredIdentities {
  version: 1;
  identities: Record<string, IdentityRecord>;
}

export const IDENTITIES_FILE = 'identities.json';

/** identities.json in the data directory, replaced atomically on every change. */
export class FileIdentityBackend implements IdentityBackend {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, IDENTITIES_FILE);
  }

  load(): Map<string, IdentityRecord> {
    return readIdentityFile(this.file);
  }

  save(_identityId: string, _record: IdentityRecord, all: ReadonlyMap<string, IdentityRecord>): void {
    this.write(all);
  }

  forget(_forgotten: ReadonlyMap<string, IdentityRecord>, all: ReadonlyMap<string, IdentityRecord>): void {
    this.write(all);
  }

  private write(all: ReadonlyMap<string, IdentityRecord>): void {
    writeJsonFileAtomic(this.file, { version: 1, identities: Object.fromEntries(all) } satisfies StoredIdentities);
  }
}

/** The records of identities.json (none when it does not exist); JsonFileError when it is not ours. */
export function readIdentityFile(file: string): Map<string, IdentityRecord> {
  const data = readJsonFile(file) as StoredIdentities | undefined;
  const records = new Map<string, IdentityRecord>();
  if (data === undefined) return records;
  if (typeof data !== 'object' || data === null || typeof data.identities !== 'object' || data.identities === null) {
    throw new JsonFileError(file, 'has an unexpected shape; fix or remove it');
  }
  for (const [id, record] of Object.entries(data.identities)) {
    const parsed = parseIdentityRecord(record);
    if (parsed) records.set(id, parsed);
  }
  return records;
}

/** A stored identity record, with unknown fields dropped and old records upgraded; undefined when not one. */
export function parseIdentityRecord(value: unknown): IdentityRecord | undefined {
  const record = value as Partial<IdentityRecord> | null | undefined;
  if (typeof record?.hostname !== 'string') return undefined;
  return {
    hostname: record.hostname,
    createdAt: typeof record.createdAt === 'string' ? record.createdAt : new Date(0).toISOString(),
    lastSeenAt: typeof record.lastSeenAt === 'string' ? record.lastSeenAt : undefined,
    tokenId: typeof record.tokenId === 'string' ? record.tokenId : undefined,
    requested: record.requested === true ? true : undefined,
  };
}
