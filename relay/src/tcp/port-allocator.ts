import type { TcpAllocation, TcpErrorCode } from '../../../protocol/control-tcp';
import { FilePortBackend, type PortBackend, type PortRecord } from './port-backend';
import type { PortRange } from './port-range';

export { TCP_PORTS_FILE } from './port-backend';

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

export interface PortAllocatorOptions {
  clock?: () => Date;
  maxPerIdentity?: number;
  /** Where allocations live; default tcp-ports.json in the data dir (Redis for several relays). */
  backend?: PortBackend;
}

/**
 * Which agent identity holds which TCP port of the relay's range. Kept in the data dir
 * (atomic JSON), or in a cluster's Redis, so an allocation survives relay restarts and agent
 * reconnects. Records outside
 * the current range (the operator narrowed it) are kept and still owned, but never handed out.
 */
export class PortAllocator {
  private readonly byPort = new Map<number, PortRecord>();
  private readonly clock: () => Date;
  private readonly maxPerIdentity: number;
  /** The backend's answer to the latest change (a cluster's Redis may refuse an allocation). */
  private lastWrite: Promise<void> = Promise.resolve();

  private constructor(
    private readonly backend: PortBackend,
    readonly range: PortRange,
    options: PortAllocatorOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.maxPerIdentity = options.maxPerIdentity ?? MAX_PORTS_PER_IDENTITY;
  }

  static open(dataDir: string, range: PortRange, options: PortAllocatorOptions = {}): PortAllocator {
    const backend: PortBackend = options.backend ?? new FilePortBackend(dataDir);
    const allocator = new PortAllocator(backend, range, options);
    for (const [port, record] of backend.load()) allocator.byPort.set(port, record);
    // Another relay's change replaces ours: the shared store is the truth.
    backend.onRemote?.((port, record) => (record ? allocator.byPort.set(port, record) : allocator.byPort.delete(port)));
    return allocator;
  }

  /** Resolves once the latest change is stored; rejects (PortAllocationError 'taken') when another relay's allocation won. */
  written(): Promise<void> {
    return this.lastWrite;
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
    this.save(port, identity);
    return { port, allocatedAt: record.allocatedAt };
  }

  /** Gives the port back to the range; only its holder may. */
  release(identity: string, port: number): TcpAllocation {
    const record = this.byPort.get(port);
    if (record?.identity !== identity) throw new PortAllocationError('not-yours', `port ${port} is not allocated to this agent`);
    this.byPort.delete(port);
    this.save(port, identity);
    return { port, allocatedAt: record.allocatedAt };
  }

  private lowestFree(skip: ReadonlySet<number>): number {
    for (let port = this.range.first; port <= this.range.last; port++) {
      if (!this.byPort.has(port) && !skip.has(port)) return port;
    }
    throw new PortAllocationError('none-free', `every port of this relay's range ${this.range} is allocated`);
  }

  private save(port: number, identity: string): void {
    this.lastWrite = this.backend.save(port, identity, this.byPort.get(port), this.byPort);
    this.lastWrite.catch(() => undefined); // read by written(); a change nobody awaits must not go unhandled
  }
}
