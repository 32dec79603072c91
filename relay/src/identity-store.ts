import { FileIdentityBackend, type IdentityBackend, type IdentityRecord } from './identity-backend';
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

/**
 * Which agent identity owns which hostname; kept in the data dir so a reconnect or a
 * relay restart gives an agent the same name. Identities are hashes of agent secrets.
 */
export class IdentityStore {
  private readonly byIdentity = new Map<string, IdentityRecord>();
  private readonly byHostname = new Map<string, string>();

  private constructor(
    private readonly backend: IdentityBackend,
    private readonly domain: string,
  ) {}

  /** identities.json in dataDir, or `backend` (Redis, for several relays). */
  static open(dataDir: string, domain: string, backend: IdentityBackend = new FileIdentityBackend(dataDir)): IdentityStore {
    const store = new IdentityStore(backend, domain);
    for (const [id, record] of backend.load()) store.remember(id, record);
    // Another relay's assignment replaces ours: the shared store is the truth.
    backend.onRemote?.((id, record) => store.remember(id, record));
    return store;
  }

  private remember(identityId: string, record: IdentityRecord): void {
    const previous = this.byIdentity.get(identityId);
    if (previous && this.byHostname.get(previous.hostname) === identityId) this.byHostname.delete(previous.hostname);
    this.byIdentity.set(identityId, record);
    this.byHostname.set(record.hostname, identityId);
  }

  hostnameOf(identityId: string): string | undefined {
    return this.byIdentity.get(identityId)?.hostname;
  }

  ownerOf(hostname: string): string | undefined {
    return this.byHostname.get(hostname);
  }

  /**
   * The hostname for this identity: the requested one when it is free or already its
   * own, else the one it has, else a new random one. Persists any change.
   */
  assign(identityId: string, requested?: string): string {
    const current = this.byIdentity.get(identityId);
    if (requested) {
      const wanted = this.qualify(requested);
      const owner = this.byHostname.get(wanted);
      if (owner === identityId) return wanted;
      if (owner !== undefined) throw new HostnameError('taken', `hostname ${wanted} is taken by another agent`);
      if (current) this.byHostname.delete(current.hostname);
      this.record(identityId, wanted);
      return wanted;
    }
    if (current) return current.hostname;
    let hostname: string;
    do hostname = `${randomHostLabel()}.${this.domain}`;
    while (this.byHostname.has(hostname));
    this.record(identityId, hostname);
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

  private record(identityId: string, hostname: string): void {
    const record = { hostname, createdAt: new Date().toISOString() };
    this.byIdentity.set(identityId, record);
    this.byHostname.set(hostname, identityId);
    this.backend.save(identityId, record, this.byIdentity);
  }
}
