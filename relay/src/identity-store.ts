import { FileIdentityBackend, type IdentityBackend, type IdentityRecord } from './identity-backend';
import { isValidHostLabel, randomHostLabel } from './hostname-words';

export { IDENTITIES_FILE, readIdentityFile } from './identity-backend';

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
    private readonly backend: IdentityBackend,
    private readonly domain: string,
    private readonly now: () => number,
  ) {}

  /** identities.json in dataDir, or `options.backend` (Redis, for several relays). */
  static open(dataDir: string, domain: string, options: { now?: () => number; backend?: IdentityBackend } = {}): IdentityStore {
    const backend: IdentityBackend = options.backend ?? new FileIdentityBackend(dataDir);
    const store = new IdentityStore(backend, domain, options.now ?? Date.now);
    for (const [id, record] of backend.load()) store.remember(id, record);
    // Another relay's change replaces ours: the shared store is the truth.
    backend.onRemote?.((id, record) => store.remember(id, record));
    return store;
  }

  /** Takes a record as it is (or forgets the identity: undefined), keeping the hostname index in step. */
  private remember(identityId: string, record: IdentityRecord | undefined): void {
    const previous = this.byIdentity.get(identityId);
    if (previous && this.byHostname.get(previous.hostname) === identityId) this.byHostname.delete(previous.hostname);
    if (!record) {
      this.byIdentity.delete(identityId);
      return;
    }
    this.byIdentity.set(identityId, record);
    this.byHostname.set(record.hostname, identityId);
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
    this.remember(identityId, next);
    this.backend.save(identityId, next, this.byIdentity);
    return hostname;
  }

  /** Notes that the identity was just in use (its session ended): reclaiming counts idle time from here. */
  touch(identityId: string): void {
    const record = this.byIdentity.get(identityId);
    if (record && this.stampLastSeen(record)) this.backend.save(identityId, record, this.byIdentity);
  }

  /**
   * Forgets identities unused for maxIdleMs, freeing their hostnames and their token's count.
   * Identities that asked for their hostname (reservations) are kept, as are those `keep` names
   * (online, holding custom domains or TCP ports); those are marked seen now, so another relay of
   * a cluster, where they are not online, does not reclaim them. Returns the hostnames reclaimed.
   */
  reclaimIdle(maxIdleMs: number, keep: (identityId: string) => boolean): string[] {
    const cutoff = this.now() - maxIdleMs;
    const forgotten = new Map<string, IdentityRecord>();
    for (const [id, record] of this.byIdentity) {
      if (keep(id)) this.touch(id);
      else if (!record.requested && Date.parse(record.lastSeenAt ?? record.createdAt) <= cutoff) forgotten.set(id, record);
    }
    for (const id of forgotten.keys()) this.remember(id, undefined);
    if (forgotten.size > 0) this.backend.forget(forgotten, this.byIdentity);
    return [...forgotten.values()].map((record) => record.hostname);
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
}
