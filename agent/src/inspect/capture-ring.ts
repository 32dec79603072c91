import { DEFAULT_MAX_MEMORY_MIB, DEFAULT_MAX_REQUESTS } from '../../../protocol/inspect';

export interface RingBounds {
  maxRequests: number;
  maxBytes: number;
}

export const DEFAULT_BOUNDS: RingBounds = { maxRequests: DEFAULT_MAX_REQUESTS, maxBytes: DEFAULT_MAX_MEMORY_MIB * 1024 * 1024 };

/** What the ring needs of an entry: its id and the memory it holds. */
export interface RingEntry {
  readonly id: number;
  /** Bytes held (bodies kept, headers); grown with charge(). */
  cost: number;
}

/**
 * The newest entries, bounded both by count and by the bytes they hold: the oldest go first.
 * An entry still growing counts as it grows (charge), so one large body cannot overrun the cap.
 */
export class CaptureRing<T extends RingEntry> {
  private readonly entries = new Map<number, T>();
  private bytes = 0;

  constructor(private bounds: RingBounds = DEFAULT_BOUNDS) {
    if (!(bounds.maxRequests >= 1) || !(bounds.maxBytes >= 1)) throw new RangeError('the capture ring needs room for at least one request and one byte');
  }

  add(entry: T): void {
    this.entries.set(entry.id, entry);
    this.bytes += entry.cost;
    this.evict();
  }

  /** Records that `entry` now holds `more` bytes more. */
  charge(entry: T, more: number): void {
    if (more === 0) return;
    entry.cost += more;
    if (this.entries.get(entry.id) === entry) {
      this.bytes += more;
      this.evict();
    }
  }

  get(id: number): T | undefined {
    return this.entries.get(id);
  }

  /** Newest first. */
  newestFirst(): T[] {
    return [...this.entries.values()].reverse();
  }

  get size(): number {
    return this.entries.size;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  resize(bounds: RingBounds): void {
    this.bounds = bounds;
    this.evict();
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private evict(): void {
    for (const oldest of this.entries.values()) {
      if (this.entries.size <= this.bounds.maxRequests && this.bytes <= this.bounds.maxBytes) return;
      this.entries.delete(oldest.id);
      this.bytes -= oldest.cost;
    }
  }
}
