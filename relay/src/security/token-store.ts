/**
 * Per-user tokens (`portway-relay token create|ls|revoke`). Tokens are shown once, at creation,
 * and stored only as SHA-256 hashes: a leaked tokens.json grants nothing. Verification hashes the
 * candidate and compares it with every stored hash in constant time.
 *
 * The CLI and the running relay are different processes sharing one file. Every mutation re-reads
 * the file first and replaces it atomically; the relay watches the data directory and reloads on
 * change, so `token revoke` reaches it within a debounce and onChange listeners can close the
 * revoked token's sessions.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CorruptFileError } from '../../../common/json-file';
import { FileTokenBackend, type TokenBackend } from './token-backend';

export { CorruptFileError } from '../../../common/json-file';
export { TOKENS_FILE } from './token-backend';
export const TOKEN_PREFIX = 'pw_';
/** Random bytes per token: 256 bits, far beyond guessing even without the rate limit. */
const TOKEN_BYTES = 32;
/** Longer candidates are refused unhashed; a real token is 46 characters. */
const MAX_TOKEN_LENGTH = 256;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const ID_PATTERN = /^tok_[0-9a-f]{12}$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;
/** Editors and the CLI's rename produce bursts of events; one reload per burst. */
const DEFAULT_DEBOUNCE_MS = 50;
const FILE_VERSION = 1;

export interface TokenRecord {
  /** Stable handle (`tok_` + 12 hex digits), safe to log; never derived from the token. */
  id: string;
  name: string;
  /** Undefined: the relay's default limit applies. */
  maxTunnels?: number;
  maxTcpPorts?: number;
  /** Agent identities (each with its own hostname) the token may hold; undefined: the relay's default. */
  maxIdentities?: number;
  /** ISO 8601. */
  createdAt: string;
}

export interface CreateTokenOptions {
  name: string;
  maxTunnels?: number;
  maxTcpPorts?: number;
  maxIdentities?: number;
}

/** What changed between two states of the file; `removed` lists revoked tokens. */
export interface TokenChange {
  added: TokenRecord[];
  removed: TokenRecord[];
  /** Same id, different name or limits (hand-edited file). */
  updated: TokenRecord[];
}

export type TokenStoreErrorCode = 'duplicate-name' | 'not-found' | 'invalid-name' | 'invalid-limit';

export class TokenStoreError extends Error {
  constructor(
    readonly code: TokenStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TokenStoreError';
  }
}

/** The per-token limits a record may carry, each a whole number of 0 or more. */
const LIMIT_FIELDS = ['maxTunnels', 'maxTcpPorts', 'maxIdentities'] as const;

interface StoredToken extends TokenRecord {
  sha256: string;
}

interface LoadedToken {
  record: TokenRecord;
  hash: Buffer;
}

export interface TokenStoreOptions {
  /** Watch the data directory and reload on change (the relay server); off for the one-shot CLI. */
  watch?: boolean;
  debounceMs?: number;
}

export class TokenStore {
  private tokens: LoadedToken[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private stopWatching?: () => void;
  private debounce?: NodeJS.Timeout;
  private readonly changeListeners = new Set<(change: TokenChange) => void>();
  private readonly errorListeners = new Set<(error: Error) => void>();

  private constructor(
    private readonly backend: TokenBackend,
    private readonly debounceMs: number,
  ) {}

  /** Where the tokens live (tokens.json's path, or a Redis key). */
  get file(): string {
    return this.backend.location;
  }

  /** Opens (creating the directory if needed) and loads the store. Rejects with CorruptFileError on a bad file. */
  static async open(dataDir: string, options: TokenStoreOptions = {}): Promise<TokenStore> {
    return TokenStore.openWith(await FileTokenBackend.open(dataDir), options);
  }

  /** Loads the store from a backend (tokens.json, or Redis for a cluster of relays). */
  static async openWith(backend: TokenBackend, options: TokenStoreOptions = {}): Promise<TokenStore> {
    const store = new TokenStore(backend, options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    store.tokens = await store.readTokens();
    if (options.watch ?? true) store.startWatching();
    return store;
  }

  /** Creates a token; the returned `token` is the only time its secret exists outside the caller. */
  async create(options: CreateTokenOptions): Promise<{ token: string; record: TokenRecord }> {
    const name = validateName(options?.name);
    const maxTunnels = validateLimit('maxTunnels', options?.maxTunnels);
    const maxTcpPorts = validateLimit('maxTcpPorts', options?.maxTcpPorts);
    const maxIdentities = validateLimit('maxIdentities', options?.maxIdentities);
    return this.serial(async () => {
      const current = await this.readTokens();
      if (current.some((t) => t.record.name === name)) {
        throw new TokenStoreError('duplicate-name', `a token named "${name}" already exists`);
      }
      const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
      let id: string;
      do id = 'tok_' + randomBytes(6).toString('hex');
      while (current.some((t) => t.record.id === id));
      const record: TokenRecord = { id, name, createdAt: new Date().toISOString() };
      if (maxTunnels !== undefined) record.maxTunnels = maxTunnels;
      if (maxTcpPorts !== undefined) record.maxTcpPorts = maxTcpPorts;
      if (maxIdentities !== undefined) record.maxIdentities = maxIdentities;
      const next = [...current, { record, hash: sha256(token) }];
      await this.writeTokens(next);
      this.apply(next);
      return { token, record: { ...record } };
    });
  }

  /** Removes a token by id or name; its holders are refused from now on. */
  async revoke(nameOrId: string): Promise<TokenRecord> {
    return this.serial(async () => {
      const current = await this.readTokens();
      const target = current.find((t) => t.record.id === nameOrId) ?? current.find((t) => t.record.name === nameOrId);
      if (!target) throw new TokenStoreError('not-found', `no token with the name or id "${String(nameOrId).slice(0, 80)}"`);
      const next = current.filter((t) => t !== target);
      await this.writeTokens(next);
      this.apply(next);
      return { ...target.record };
    });
  }

  /** The tokens as last loaded, without secrets or hashes. */
  list(): TokenRecord[] {
    return this.tokens.map((t) => ({ ...t.record }));
  }

  /** The record a presented token belongs to, or undefined. Constant time in the token's content. */
  verify(token: unknown): TokenRecord | undefined {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
    const candidate = sha256(token);
    let match: LoadedToken | undefined;
    // Every hash is compared, so timing depends on the count of tokens, not on which one matched.
    for (const stored of this.tokens) {
      if (timingSafeEqual(candidate, stored.hash)) match = stored;
    }
    return match ? { ...match.record } : undefined;
  }

  /** Re-reads the file now. Rejects with CorruptFileError (and keeps the last good state) on a bad file. */
  reload(): Promise<TokenChange | undefined> {
    return this.serial(async () => this.apply(await this.readTokens()));
  }

  /** Called after every change of the token set, whoever made it (this process or the CLI). */
  onChange(listener: (change: TokenChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Called when a reload triggered by the watcher fails (e.g. a hand-edited file is corrupt). */
  onError(listener: (error: Error) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Stops watching; a watching store keeps the process alive until closed. */
  close(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
    clearTimeout(this.debounce);
  }

  private startWatching(): void {
    const onChange = () => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.reload().catch((err: Error) => this.emitError(err));
      }, this.debounceMs);
    };
    this.stopWatching = this.backend.watch(onChange, (err) => this.emitError(err));
  }

  /** Mutations and reloads run one at a time, so listeners see each change once, in order. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private apply(next: LoadedToken[]): TokenChange | undefined {
    const before = new Map(this.tokens.map((t) => [t.record.id, t]));
    const after = new Map(next.map((t) => [t.record.id, t]));
    const change: TokenChange = { added: [], removed: [], updated: [] };
    for (const [id, t] of after) {
      const old = before.get(id);
      if (!old) change.added.push({ ...t.record });
      else if (!sameRecord(old, t)) change.updated.push({ ...t.record });
    }
    for (const [id, t] of before) if (!after.has(id)) change.removed.push({ ...t.record });
    this.tokens = next;
    if (change.added.length + change.removed.length + change.updated.length === 0) return undefined;
    for (const listener of this.changeListeners) {
      try {
        listener(change);
      } catch (err) {
        this.emitError(err as Error);
      }
    }
    return change;
  }

  private emitError(err: Error): void {
    for (const listener of this.errorListeners) listener(err);
  }

  private async readTokens(): Promise<LoadedToken[]> {
    const data = await this.backend.read();
    if (data === undefined) return [];
    return parseTokenFile(this.file, data);
  }

  private async writeTokens(tokens: LoadedToken[]): Promise<void> {
    const stored: StoredToken[] = tokens.map((t) => ({ ...t.record, sha256: t.hash.toString('hex') }));
    await this.backend.write({ version: FILE_VERSION, tokens: stored });
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function sameRecord(a: LoadedToken, b: LoadedToken): boolean {
  return (
    a.record.name === b.record.name &&
    a.record.maxTunnels === b.record.maxTunnels &&
    a.record.maxTcpPorts === b.record.maxTcpPorts &&
    a.record.maxIdentities === b.record.maxIdentities &&
    a.hash.equals(b.hash)
  );
}

function validateName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name) || ID_PATTERN.test(name)) {
    throw new TokenStoreError(
      'invalid-name',
      'a token name is 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit (and not shaped like a token id)',
    );
  }
  return name;
}

function validateLimit(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TokenStoreError('invalid-limit', `${field} must be a whole number of 0 or more`);
  }
  return value;
}

/** Checks every field: the file may have been edited by hand. */
function parseTokenFile(file: string, data: unknown): LoadedToken[] {
  const fail = (reason: string): never => {
    throw new CorruptFileError(file, reason);
  };
  if (typeof data !== 'object' || data === null) fail('not a JSON object');
  const { version, tokens } = data as Record<string, unknown>;
  if (version !== FILE_VERSION) fail(`unsupported version ${JSON.stringify(version)}`);
  if (!Array.isArray(tokens)) fail('"tokens" is not a list');
  const ids = new Set<string>();
  const names = new Set<string>();
  return (tokens as unknown[]).map((entry, i) => {
    const at = `token ${i + 1}`;
    if (typeof entry !== 'object' || entry === null) fail(`${at} is not an object`);
    const e = entry as Record<string, unknown>;
    if (typeof e.id !== 'string' || !ID_PATTERN.test(e.id)) fail(`${at} has no valid id`);
    if (typeof e.name !== 'string' || !NAME_PATTERN.test(e.name)) fail(`${at} has no valid name`);
    if (typeof e.sha256 !== 'string' || !HASH_PATTERN.test(e.sha256)) fail(`${at} has no valid sha256`);
    if (typeof e.createdAt !== 'string') fail(`${at} has no createdAt`);
    if (ids.has(e.id as string)) fail(`${at} repeats id ${e.id}`);
    if (names.has(e.name as string)) fail(`${at} repeats name ${e.name}`);
    ids.add(e.id as string);
    names.add(e.name as string);
    const record: TokenRecord = { id: e.id as string, name: e.name as string, createdAt: e.createdAt as string };
    for (const field of LIMIT_FIELDS) {
      const value = e[field];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(`${at} has an invalid ${field}`);
      record[field] = value as number;
    }
    return { record, hash: Buffer.from(e.sha256 as string, 'hex') };
  });
}
