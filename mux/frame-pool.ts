/**
 * Reusable frame buffers for the framed reader: a bulk transfer reads into the same few buffers
 * over and over instead of allocating 256 KiB per read and leaving it to the garbage collector.
 * A buffer comes back only after the transport reports its frame written (the kernel has the
 * bytes), so nothing still queued for the socket is ever overwritten.
 *
 * One free list per buffer size, each capped: what a pool keeps is bounded by
 * MAX_KEPT_PER_SIZE × the sizes in use, whatever the traffic.
 */
const MAX_KEPT_PER_SIZE = 8;

export class FramePool {
  private readonly free = new Map<number, Buffer[]>();

  take(size: number): Buffer {
    return this.free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
  }

  give(buffer: Buffer): void {
    let list = this.free.get(buffer.length);
    if (!list) this.free.set(buffer.length, (list = []));
    if (list.length < MAX_KEPT_PER_SIZE) list.push(buffer);
  }
}

/** The agent's one pool: every origin connection of the process shares it. */
export const sharedFramePool = new FramePool();
