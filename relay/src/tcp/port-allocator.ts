import * as path from 'node:path';
import { JsonFileError, readJsonFile, writeJsonFileAtomic } from '../../../common/json-file';
import type { TcpAllocation, TcpErrorCode } from '../../../protocol/control-tcp';
import type { PortRange } from './port-range';

/** Why a port could not be allocated or released; the code travels to the agent as is. */
export class PortAllocationError extends Error {
  constructor(
    readonly code: TcpErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PortAllocationError';
  }
}

/** Most ports one identity may hold: a range is shared by every agent of the relay. */
export const MAX_PORTS_PER_IDENTITY = 100;

export const TCP_PORTS_FILE = 'tcp-ports.json';

interface PortRecord {
  identity: string;
  allocatedAt: string;
}

interface StoredPorts {
  version: 1;
  ports: Record<string, PortRecord>;
}

export interface PortAllocatorOptions {
  clock?: () => Date;
  maxPerIdentity?: number;
}

/**
 * Which agent identity holds which TCP port of the relay's range. Kept in the data dir
 * (atomic JSON) so an allocation survives relay restarts and agent reconnects. Records outside
 * the current range (the operator narrowed it) are kept and still owned, but never handed out.
 */
export class PortAllocator {
  private readonly byPort = new Map<number, PortRecord>();
  private readonly clock: () => Date;
  private readonly maxPerIdentity: number;

  private constructor(
    private readonly file: string,
    readonly range: PortRange,
    options: PortAllocatorOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.maxPerIdentity = options.maxPerIdentity ?? MAX_PORTS_PER_IDENTITY;
  }

  static open(dataDir: string, range: PortRange, options: PortAllocatorOptions = {}): PortAllocator {
    const allocator = new PortAllocator(path.join(dataDir, TCP_PORTS_FILE), range, options);
    const data = readJsonFile(allocator.file) as StoredPorts | undefined;
    if (data === undefined) return allocator;
    if (typeof data !== 'object' || data === null || typeof data.ports !== 'object' || data.ports === null) {
      throw new JsonFileError(allocator.file, 'has an unexpected shape; fix or remove it');
    }
    for (const [key, record] of Object.entries(data.ports)) {
      const port = Number(key);
      if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
      if (typeof record?.identity !== 'string' || typeof record.allocatedAt !== 'string') continue;
      allocator.byPort.set(port, { identity: record.identity, allocatedAt: record.allocatedAt });
    }
    return allocator;
  }

  ownerOf(port: number): string | undefined {
    return this.byPort.get(port)?.identity;
  }

  /** This identity's ports, lowest first. */
  portsOf(identity: string): TcpAllocation[] {
    return [...this.byPort]
      .filter(([, record]) => record.identity === identity)
      .map(([port, record]) => ({ port, allocatedAt: record.allocatedAt }))
      .sort((a, b) => a.port - b.port);
  }

  /**
   * A port for this identity: `requested` when it is in the range and free (or already its own),
   * else the lowest free port of the range not in `skip`. Persists the allocation.
   */
  allocate(identity: string, requested?: number, skip: ReadonlySet<number> = new Set()): TcpAllocation {
    if (requested !== undefined) {
      if (!this.range.includes(requested)) {
        throw new PortAllocationError('invalid-port', `port ${requested} is outside this relay's range ${this.range}`);
      }
      const owner = this.byPort.get(requested);
      if (owner?.identity === identity) return { port: requested, allocatedAt: owner.allocatedAt };
      if (owner) throw new PortAllocationError('taken', `port ${requested} is allocated to another agent`);
    }
    if (this.portsOf(identity).length >= this.maxPerIdentity) {
      throw new PortAllocationError('limit-reached', `this agent already holds ${this.maxPerIdentity} ports, the most allowed; release one first`);
    }
    const port = requested ?? this.lowestFree(skip);
    const record = { identity, allocatedAt: this.clock().toISOString() };
    this.byPort.set(port, record);
    this.save();
    return { port, allocatedAt: record.allocatedAt };
  }

  /** Gives the port back to the range; only its holder may. */
  release(identity: string, port: number): TcpAllocation {
    const record = this.byPort.get(port);
    if (record?.identity !== identity) throw new PortAllocationError('not-yours', `port ${port} is not allocated to this agent`);
    this.byPort.delete(port);
    this.save();
    return { port, allocatedAt: record.allocatedAt };
  }

  private lowestFree(skip: ReadonlySet<number>): number {
    for (let port = this.range.first; port <= this.range.last; port++) {
      if (!this.byPort.has(port) && !skip.has(port)) return port;
    }
    throw new PortAllocationError('none-free', `every port of this relay's range ${this.range} is allocated`);
  }

  private save(): void {
    const ports: Record<string, PortRecord> = {};
    for (const [port, record] of [...this.byPort].sort((a, b) => a[0] - b[0])) ports[String(port)] = record;
    writeJsonFileAtomic(this.file, { version: 1, ports } satisfies StoredPorts);
  }
}
