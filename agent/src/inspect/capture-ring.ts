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

/** Slots allocated at first; grown (doubled) up to maxRequests as entries come. */
const FIRST_SLOTS = 1024;

/**
 * The newest entries, bounded both by count and by the bytes they hold: the oldest go first.
 * An entry still growing counts as it grows (charge), so one large body cannot overrun the cap.
 * Kept in a circular array in arrival order (ids ascending): adding, evicting and finding an
 * entry by id allocate nothing and take constant time in the usual case (consecutive ids).
 */
export class CaptureRing<T extends RingEntry> {
  private slots: (T | undefined)[];
  /** Slot of the oldest entry. */
  private first = 0;
  private count = 0;
  private bytes = 0;

  constructor(private bounds: RingBounds = DEFAULT_BOUNDS) {
    CaptureRing.check(bounds);
    this.slots = new Array<T | undefined>(Math.min(bounds.maxRequests, FIRST_SLOTS)).fill(undefined);
  }

  private static check(bounds: RingBounds): void {
    if (!(bounds.maxRequests >= 1) || !(bounds.maxBytes >= 1)) throw new RangeError('the capture ring needs room for at least one request and one byte');
  }

  add(entry: T): void {
    if (this.count >= this.bounds.maxRequests) this.dropOldest();
    if (this.count === this.slots.length) this.relayout(Math.min(this.slots.length * 2, this.bounds.maxRequests));
    this.slots[(this.first + this.count) % this.slots.length] = entry;
    this.count++;
    this.bytes += entry.cost;
    this.evict();
  }

  /** Records that `entry` now holds `more` bytes more. */
  charge(entry: T, more: number): void {
    if (more === 0) return;
    entry.cost += more;
    if (this.at(this.positionOf(entry.id)) === entry) {
      this.bytes += more;
      this.evict();
    }
  }

  get(id: number): T | undefined {
    return this.at(this.positionOf(id));
  }

  /** Newest first. */
  newestFirst(): T[] {
    const list: T[] = [];
    for (let k = this.count - 1; k >= 0; k--) list.push(this.at(k)!);
    return list;
  }

  get size(): number {
    return this.count;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  resize(bounds: RingBounds): void {
    CaptureRing.check(bounds);
    this.bounds = bounds;
    while (this.count > bounds.maxRequests) this.dropOldest();
    if (this.slots.length > bounds.maxRequests) this.relayout(bounds.maxRequests);
    this.evict();
  }

  clear(): void {
    this.slots.fill(undefined);
    this.first = this.count = this.bytes = 0;
  }

  /** The entry `k` places after the oldest (undefined out of range). */
  private at(k: number): T | undefined {
    return k >= 0 && k < this.count ? this.slots[(this.first + k) % this.slots.length] : undefined;
  }

  /** Where the entry with `id` is (ids ascend from the oldest): at once when ids are consecutive, else by bisection; -1 if none. */
  private positionOf(id: number): number {
    const oldest = this.at(0);
    if (!oldest) return -1;
    const guess = id - oldest.id;
    if (this.at(guess)?.id === id) return guess;
    let low = 0;
    let high = this.count - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const midId = this.at(mid)!.id;
      if (midId === id) return mid;
      if (midId < id) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  private dropOldest(): void {
    const oldest = this.slots[this.first]!;
    this.slots[this.first] = undefined;
    this.first = (this.first + 1) % this.slots.length;
    this.count--;
    this.bytes -= oldest.cost;
  }

  /** Moves the entries into `capacity` slots, oldest first (count <= capacity). */
  private relayout(capacity: number): void {
    const slots = new Array<T | undefined>(capacity).fill(undefined);
    for (let k = 0; k < this.count; k++) slots[k] = this.at(k);
    this.slots = slots;
    this.first = 0;
  }

  private evict(): void {
    while (this.count > 0 && this.bytes > this.bounds.maxBytes) this.dropOldest();
  }
}
