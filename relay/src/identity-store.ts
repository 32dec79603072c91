import * as path from 'node:path';
import { readJsonFile, writeJsonFileAtomic, JsonFileError } from '../../common/json-file';
import { isValidHostLabel, randomHostLabel } from './hostname-words';

/** Names a hostname the caller may not have. */
export class HostnameError extends Error {
  constructor(
    readonly code: 'taken' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'HostnameError';
  }
}

/** A token already holds its most identities (`token create --max-identities`); the hello is refused with `limit-reached`. */
export class IdentityLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityLimitError';
  }
}

interface IdentityRecord {
  hostname: string;
  createdAt: string;
  /** Last hello or session end (ISO 8601); reclaiming goes by it. Older files lack it: createdAt then. */
  lastSeenAt?: string;
  /** The token that holds this identity (counted against its --max-identities); absent: AUTH_KEY or an open relay. */
  tokenId?: string;
  /** The agent asked for this hostname: a reservation, never reclaimed. */
  requested?: boolean;
}

interface StoredIdentities {
  version: 1;
  identities: Record<string, IdentityRecord>;
}

/** Who asks for a hostname, and how many identities their token may hold. */
export interface IdentityOwner {
  tokenId?: string;
  tokenName?: string;
  /** Identities the token may hold; undefined: unlimited. */
  maxIdentities?: number;
}

/** lastSeenAt is written at most this often per identity: reconnect storms must not rewrite the file each time. */
const LAST_SEEN_RESOLUTION_MS = 60 * 60 * 1000;

/**
 * Which agent identity owns which hostname; kept in the data dir so a reconnect or a
 * relay restart gives an agent the same name. Identities are hashes of agent secrets.
 * Each token holds a bounded number of them, and identities unused for long are reclaimed.
 */
export class IdentityStore {
  private readonly byIdentity = new Map<string, IdentityRecord>();
  private readonly byHostname = new Map<string, string>();

  private constructor(
    private readonly file: string,
    private readonly domain: string,
    private readonly now: () => number,
  ) {}

  static open(dataDir: string, domain: string, options: { now?: () => number } = {}): IdentityStore {
    const store = new IdentityStore(path.join(dataDir, IDENTITIES_FILE), domain, options.now ?? Date.now);
    for (const [id, record] of readIdentityFile(store.file)) {
      store.byIdentity.set(id, record);
      store.byHostname.set(record.hostname, id);
    }
    return store;
  }

  hostnameOf(identityId: string): string | undefined {
    return this.byIdentity.get(identityId)?.hostname;
  }

  ownerOf(hostname: string): string | undefined {
    return this.byHostname.get(hostname);
  }

  /** How many identities each token holds. */
  countByToken(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const record of this.byIdentity.values()) {
      if (record.tokenId !== undefined) counts.set(record.tokenId, (counts.get(record.tokenId) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * The hostname for this identity: the requested one when it is free or already its
   * own, else the one it has, else a new random one. An identity new to the owner's token
   * counts against the token's maxIdentities (IdentityLimitError). Persists any change.
   */
  assign(identityId: string, requested?: string, owner: IdentityOwner = {}): string {
    const current = this.byIdentity.get(identityId);
    const wanted = requested ? this.qualify(requested) : undefined;
    if (wanted !== undefined) {
      const holder = this.byHostname.get(wanted);
      if (holder !== undefined && holder !== identityId) throw new HostnameError('taken', `hostname ${wanted} is taken by another agent`);
    }
    if (owner.tokenId !== undefined && current?.tokenId !== owner.tokenId) this.checkTokenRoom(owner);
    const hostname = wanted ?? current?.hostname ?? this.freshHostname();
    const next: IdentityRecord = {
      hostname,
      createdAt: current?.createdAt ?? new Date(this.now()).toISOString(),
      lastSeenAt: current?.lastSeenAt,
      tokenId: owner.tokenId ?? current?.tokenId,
      requested: wanted !== undefined || current?.requested ? true : undefined,
    };
    const changed = !current || current.hostname !== next.hostname || current.tokenId !== next.tokenId || current.requested !== next.requested;
    if (!this.stampLastSeen(next) && !changed) return hostname;
    if (current && current.hostname !== hostname) this.byHostname.delete(current.hostname);
    this.byIdentity.set(identityId, next);
    this.byHostname.set(hostname, identityId);
    this.save();
    return hostname;
  }

  /** Notes that the identity was just in use (its session ended): reclaiming counts idle time from here. */
  touch(identityId: string): void {
    const record = this.byIdentity.get(identityId);
    if (record && this.stampLastSeen(record)) this.save();
  }

  /**
   * Forgets identities unused for maxIdleMs, freeing their hostnames and their token's count.
   * Identities that asked for their hostname (reservations) are kept, as are those `keep` names
   * (online, holding custom domains or TCP ports). Returns the hostnames reclaimed.
   */
  reclaimIdle(maxIdleMs: number, keep: (identityId: string) => boolean): string[] {
    const cutoff = this.now() - maxIdleMs;
    const reclaimed: string[] = [];
    for (const [id, record] of this.byIdentity) {
      if (record.requested || Date.parse(record.lastSeenAt ?? record.createdAt) > cutoff || keep(id)) continue;
      this.byIdentity.delete(id);
      this.byHostname.delete(record.hostname);
      reclaimed.push(record.hostname);
    }
    if (reclaimed.length > 0) this.save();
    return reclaimed;
  }

  private checkTokenRoom(owner: IdentityOwner): void {
    if (owner.maxIdentities === undefined) return;
    const held = this.countByToken().get(owner.tokenId!) ?? 0;
    if (held < owner.maxIdentities) return;
    throw new IdentityLimitError(
      `token "${owner.tokenName ?? owner.tokenId}" allows ${owner.maxIdentities} agent identities and holds ${held}; ` +
        'reuse an existing agent config, or ask the relay operator to raise the limit (unused identities are reclaimed after a while)',
    );
  }

  /** Sets lastSeenAt to now when the stored one is older than the resolution; whether it changed. */
  private stampLastSeen(record: IdentityRecord): boolean {
    const now = this.now();
    const last = Date.parse(record.lastSeenAt ?? '');
    if (!Number.isNaN(last) && now - last < LAST_SEEN_RESOLUTION_MS) return false;
    record.lastSeenAt = new Date(now).toISOString();
    return true;
  }

  private freshHostname(): string {
    let hostname: string;
    do hostname = `${randomHostLabel()}.${this.domain}`;
    while (this.byHostname.has(hostname));
    return hostname;
  }

  /** "my-app" or "my-app.<domain>" → "my-app.<domain>", or HostnameError. */
  private qualify(requested: string): string {
    let label = requested.trim().toLowerCase();
    if (label.endsWith('.')) label = label.slice(0, -1);
    if (label.endsWith(`.${this.domain}`)) label = label.slice(0, -(this.domain.length + 1));
    if (!isValidHostLabel(label)) {
      throw new HostnameError('invalid', `"${requested}" is not a valid hostname label (a-z, 0-9 and '-', at most 63 characters)`);
    }
    return `${label}.${this.domain}`;
  }

  private save(): void {
    const identities: Record<string, IdentityRecord> = Object.fromEntries(this.byIdentity);
    writeJsonFileAtomic(this.file, { version: 1, identities } satisfies StoredIdentities);
  }
}

export const IDENTITIES_FILE = 'identities.json';

/** The records of identities.json (none when it does not exist); JsonFileError when it is not ours. */
export function readIdentityFile(file: string): Map<string, IdentityRecord> {
  const data = readJsonFile(file) as StoredIdentities | undefined;
  const records = new Map<string, IdentityRecord>();
  if (data === undefined) return records;
  if (typeof data !== 'object' || data === null || typeof data.identities !== 'object' || data.identities === null) {
    throw new JsonFileError(file, 'has an unexpected shape; fix or remove it');
  }
  for (const [id, record] of Object.entries(data.identities)) {
    if (typeof record?.hostname !== 'string') continue;
    records.set(id, {
      hostname: record.hostname,
      createdAt: typeof record.createdAt === 'string' ? record.createdAt : new Date(0).toISOString(),
      lastSeenAt: typeof record.lastSeenAt === 'string' ? record.lastSeenAt : undefined,
      tokenId: typeof record.tokenId === 'string' ? record.tokenId : undefined,
      requested: record.requested === true ? true : undefined,
    });
  }
  return records;
}
