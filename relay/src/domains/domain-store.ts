/**
 * Verified custom domains and the identity each belongs to, persisted in the data directory
 * (`domains.json`). A binding covers the domain and every subdomain, except where a more specific
 * binding exists (a subdomain delegated to someone else before the parent was claimed).
 *
 * The store is told the relay's own domains (`reserved`): nobody may bind them, and no binding of
 * a parent (a team verifying example.com while the relay serves tunnel.example.com) reaches into
 * them, or a custom domain would become a way to take over another agent's assigned hostname.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { domainLookupKey } from '../../../common/domain-name';
import { CorruptFileError } from '../../../common/json-file';
import { FileDocumentBackend, type DocumentBackend } from '../document-backend';
import { domainAndParents, normalizeDomain } from './domain-name';

export { CorruptFileError } from '../../../common/json-file';

export const DOMAINS_FILE = 'domains.json';
const FILE_VERSION = 1;

export interface DomainBinding {
  domain: string;
  identity: string;
  /** ISO 8601, when the TXT check passed. */
  verifiedAt: string;
}

export type DomainStoreErrorCode = 'taken' | 'reserved' | 'not-found' | 'not-owner';

export class DomainStoreError extends Error {
  constructor(
    readonly code: DomainStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainStoreError';
  }
}

export interface DomainStoreOptions {
  /** The relay's own domains (its apex and anything it assigns names under). */
  reserved?: readonly string[];
  /** Clock for `verifiedAt`; tests pin it. */
  now?: () => Date;
  /** Where the bindings live; default domains.json in the data dir (Redis for several relays, watched). */
  backend?: DocumentBackend;
}

export class DomainStore {
  private bindings = new Map<string, DomainBinding>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly reserved: readonly string[];

  private constructor(
    private readonly backend: DocumentBackend,
    private readonly options: DomainStoreOptions,
  ) {
    this.reserved = (options.reserved ?? []).map((domain) => domainLookupKey(domain));
  }

  /** Where the bindings live (domains.json's path, or a Redis key). */
  get file(): string {
    return this.backend.location;
  }

  /** Opens the store in `dataDir` (or `options.backend`); rejects with CorruptFileError on a bad file (left untouched). */
  static async open(dataDir: string, options: DomainStoreOptions = {}): Promise<DomainStore> {
    await fsp.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const store = new DomainStore(options.backend ?? new FileDocumentBackend(path.join(dataDir, DOMAINS_FILE)), options);
    await store.reload();
    // Another relay of a cluster verified or removed a domain: take its bindings.
    store.backend.watch(
      () => void store.serial(() => store.reload()).catch(() => undefined),
      () => undefined,
    );
    return store;
  }

  /** Reads the stored bindings again (before every change too: another relay may have written since). */
  private async reload(): Promise<void> {
    const data = await this.backend.read();
    this.bindings = data === undefined ? new Map() : parseDomainFile(this.file, data);
  }

  /**
   * Records that `identity` proved `domain` (call after verifyDomainTxt succeeded). Idempotent for
   * the same identity. Throws DomainStoreError 'taken' when the domain, or a parent covering it, is
   * another identity's; 'reserved' for the relay's own domains; DomainNameError for a bad name.
   */
  async bind(identity: string, domain: string): Promise<DomainBinding> {
    const name = normalizeDomain(domain);
    requireIdentity(identity);
    return this.serial(async () => {
      await this.reload();
      this.checkBindable(identity, name);
      const existing = this.bindings.get(name);
      if (existing) return { ...existing };
      const binding: DomainBinding = { domain: name, identity, verifiedAt: (this.options.now?.() ?? new Date()).toISOString() };
      const next = new Map(this.bindings).set(name, binding);
      await this.write(next);
      this.bindings = next;
      return { ...binding };
    });
  }

  /** Throws the error `bind` would, without binding: check before asking for a DNS lookup. */
  checkBindable(identity: string, domain: string): void {
    const name = normalizeDomain(domain);
    if (this.isReserved(name)) throw new DomainStoreError('reserved', `${name} belongs to the relay itself and cannot be claimed`);
    for (const candidate of domainAndParents(name)) {
      const binding = this.bindings.get(candidate);
      if (binding && binding.identity !== identity) {
        const where = candidate === name ? `${name} is` : `${name} is inside ${candidate}, which is`;
        throw new DomainStoreError('taken', `${where} already verified by another identity`);
      }
    }
  }

  /** Removes `identity`'s binding of `domain`. Only the owner may. */
  async unbind(identity: string, domain: string): Promise<DomainBinding> {
    const name = normalizeDomain(domain);
    return this.serial(async () => {
      await this.reload();
      const binding = this.bindings.get(name);
      if (!binding) throw new DomainStoreError('not-found', `${name} is not a verified domain`);
      if (binding.identity !== identity) throw new DomainStoreError('not-owner', `${name} belongs to another identity`);
      const next = new Map(this.bindings);
      next.delete(name);
      await this.write(next);
      this.bindings = next;
      return { ...binding };
    });
  }

  /** Bindings, all or one identity's, sorted by domain. */
  list(identity?: string): DomainBinding[] {
    return [...this.bindings.values()]
      .filter((binding) => identity === undefined || binding.identity === identity)
      .sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0))
      .map((binding) => ({ ...binding }));
  }

  /** The binding governing `host` (a request's Host, any case, maybe with a trailing dot): the most specific. */
  bindingFor(host: string): DomainBinding | undefined {
    const name = domainLookupKey(host);
    if (name.length === 0 || this.isReserved(name)) return undefined;
    for (const candidate of domainAndParents(name)) {
      const binding = this.bindings.get(candidate);
      if (binding) return { ...binding };
    }
    return undefined;
  }

  ownerOf(host: string): string | undefined {
    return this.bindingFor(host)?.identity;
  }

  /** Whether `identity` may route `host`: a domain it verified or a subdomain of one. */
  owns(identity: string, host: string): boolean {
    return this.ownerOf(host) === identity;
  }

  private isReserved(name: string): boolean {
    return this.reserved.some((reserved) => name === reserved || name.endsWith(`.${reserved}`));
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private write(bindings: Map<string, DomainBinding>): Promise<void> {
    return this.backend.write({ version: FILE_VERSION, domains: [...bindings.values()] });
  }
}

function requireIdentity(identity: unknown): void {
  if (typeof identity !== 'string' || identity.length === 0) throw new TypeError('identity must be non-empty text');
}

/** Checks every field: the file may have been edited by hand. */
function parseDomainFile(file: string, data: unknown): Map<string, DomainBinding> {
  const fail = (reason: string): never => {
    throw new CorruptFileError(file, reason);
  };
  if (typeof data !== 'object' || data === null) fail('not a JSON object');
  const { version, domains } = data as Record<string, unknown>;
  if (version !== FILE_VERSION) fail(`unsupported version ${JSON.stringify(version)}`);
  if (!Array.isArray(domains)) fail('"domains" is not a list');
  const result = new Map<string, DomainBinding>();
  (domains as unknown[]).forEach((entry, i) => {
    const at = `domain ${i + 1}`;
    if (typeof entry !== 'object' || entry === null) fail(`${at} is not an object`);
    const { domain, identity, verifiedAt } = entry as Record<string, unknown>;
    if (typeof domain !== 'string') fail(`${at} has no domain`);
    let name = '';
    try {
      name = normalizeDomain(domain as string);
    } catch {
      fail(`${at}: ${JSON.stringify(domain)} is not a domain name`);
    }
    if (name !== domain) fail(`${at}: ${JSON.stringify(domain)} is not in canonical form`);
    if (typeof identity !== 'string' || identity.length === 0) fail(`${at} has no identity`);
    if (typeof verifiedAt !== 'string') fail(`${at} has no verifiedAt`);
    if (result.has(name)) fail(`${at} repeats ${name}`);
    result.set(name, { domain: name, identity: identity as string, verifiedAt: verifiedAt as string });
  });
  return result;
}
