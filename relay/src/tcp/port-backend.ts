/**
 * Where TCP port allocations live: the data directory's tcp-ports.json (one relay, the default) or
 * Redis (several relays, cluster/redis-port-backend.ts). The allocator keeps the rules and an
 * in-memory copy; a backend loads, persists one change, and tells the allocator about changes
 * other relays made.
 */
import * as path from 'node:path';
import { JsonFileError, readJsonFile, writeJsonFileAtomic } from '../../../common/json-file';

export const TCP_PORTS_FILE = 'tcp-ports.json';

export interface PortRecord {
  identity: string;
  allocatedAt: string;
}

export interface PortBackend {
  /** Every stored allocation (port → record), read once when the allocator opens. */
  load(): Map<number, PortRecord>;
  /**
   * Persists one port's change: `record` allocated to `identity`, or undefined: released by it.
   * Rejects (PortAllocationError 'taken') when the shared store had given the port to another
   * identity first; the allocator's copy is corrected through onRemote before that.
   */
  save(port: number, identity: string, record: PortRecord | undefined, all: ReadonlyMap<number, PortRecord>): Promise<void>;
  /** Changes made elsewhere (another relay) arrive here; the file backend has none. */
  onRemote?(listener: (port: number, record: PortRecord | undefined) => void): void;
}

interface StoredPorts {
  version: 1;
  ports: Record<string, PortRecord>;
}

/** tcp-ports.json in the data directory, replaced atomically (and synchronously) on every change. */
export class FilePortBackend implements PortBackend {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, TCP_PORTS_FILE);
  }

  load(): Map<number, PortRecord> {
    const loaded = new Map<number, PortRecord>();
    const data = readJsonFile(this.file) as StoredPorts | undefined;
    if (data === undefined) return loaded;
    if (typeof data !== 'object' || data === null || typeof data.ports !== 'object' || data.ports === null) {
      throw new JsonFileError(this.file, 'has an unexpected shape; fix or remove it');
    }
    for (const [key, record] of Object.entries(data.ports)) {
      const parsed = parsePortEntry(key, record);
      if (parsed) loaded.set(parsed.port, parsed.record);
    }
    return loaded;
  }

  save(_port: number, _identity: string, _record: PortRecord | undefined, all: ReadonlyMap<number, PortRecord>): Promise<void> {
    const ports: Record<string, PortRecord> = {};
    for (const [port, record] of [...all].sort((a, b) => a[0] - b[0])) ports[String(port)] = record;
    writeJsonFileAtomic(this.file, { version: 1, ports } satisfies StoredPorts);
    return Promise.resolve();
  }
}

/** A stored port and its record, or undefined when either is not one. */
export function parsePortEntry(key: string, value: unknown): { port: number; record: PortRecord } | undefined {
  const port = Number(key);
  const record = value as Partial<PortRecord> | null | undefined;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  if (typeof record?.identity !== 'string' || typeof record.allocatedAt !== 'string') return undefined;
  return { port, record: { identity: record.identity, allocatedAt: record.allocatedAt } };
}
