import type { PayloadLease } from '../../../mux/payload-lease';

/**
 * Reused receive buffers for agent WebSockets. Node would allocate a fresh buffer for every socket
 * read and `ws` another for every message spanning reads; all of it is garbage that V8 frees only
 * once external memory has grown a lot (issue 17: ~28 MiB RSS growth per 100 MiB download).
 * Here reads and spanning messages go into the same few buffers over and over.
 *
 * A buffer is reference-counted: the reader holds it while filling it, every payload view handed
 * on retains it (mux/payload-lease.ts), and it returns to the free list only at zero. A view
 * nobody gives back keeps its buffer out of the pool; the garbage collector frees it then.
 *
 * Sizes are rounded up to a multiple of SIZE_STEP, and the free lists together keep at most
 * MAX_KEPT_BYTES, whatever the traffic.
 */
const SIZE_STEP = 16 * 1024;
const MAX_KEPT_BYTES = 16 * 1024 * 1024;

export class PooledBuffer implements PayloadLease {
  private refs = 1;

  constructor(
    readonly bytes: Buffer,
    private readonly pool: ReceivePool,
  ) {}

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0) this.pool.giveBack(this);
    else if (this.refs < 0) throw new Error('pooled buffer released more often than retained');
  }

  /** Taken from the free list: the reader's hold. */
  revive(): this {
    this.refs = 1;
    return this;
  }
}

export class ReceivePool {
  private readonly free = new Map<number, PooledBuffer[]>();
  private keptBytes = 0;
  /** Buffers allocated so far (for tests and the benchmark). */
  allocated = 0;

  /** A buffer of at least `size` bytes, held once (by the caller). */
  take(size: number): PooledBuffer {
    const rounded = Math.ceil(size / SIZE_STEP) * SIZE_STEP;
    const reused = this.free.get(rounded)?.pop();
    if (reused) {
      this.keptBytes -= rounded;
      return reused.revive();
    }
    this.allocated++;
    return new PooledBuffer(Buffer.allocUnsafeSlow(rounded), this);
  }

  /** Called by PooledBuffer when its last hold is released. */
  giveBack(buffer: PooledBuffer): void {
    const size = buffer.bytes.length;
    if (this.keptBytes + size > MAX_KEPT_BYTES) return; // left to the garbage collector
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
    this.keptBytes += size;
  }

  get idleBytes(): number {
    return this.keptBytes;
  }
}

/** The relay's one pool: every agent connection of the process shares it. */
export const agentReceivePool = new ReceivePool();
