import { BODY_PREVIEW_BYTES } from '../../../protocol/inspect';
import { sharedArena } from './byte-arena';

/**
 * The first `limit` bytes of a body, kept as they came (copied into the capture arena, off the
 * JS heap); the rest is only counted. A body that comes in pieces is usually one run in the
 * arena; otherwise the later pieces are kept beside it.
 */
export class BodyPreview {
  /** Bytes kept. */
  kept = 0;
  /** Bytes seen (the whole body so far). */
  size = 0;
  private slab: Buffer | undefined = undefined;
  private offset = 0;
  /** Bytes of the first run (at slab[offset]). */
  private runBytes = 0;
  private later: Buffer[] | undefined = undefined;

  constructor(private readonly limit = BODY_PREVIEW_BYTES) {}

  /** Adds chunk[start, end); returns how many bytes were kept of it (for the ring's memory count). */
  add(chunk: Buffer, start = 0, end = chunk.length): number {
    this.size += end - start;
    const room = this.limit - this.kept;
    if (room <= 0) return 0;
    const take = Math.min(room, end - start);
    if (!this.slab) {
      this.slab = sharedArena.copy(chunk, start, start + take);
      this.offset = sharedArena.offset;
      this.runBytes = take;
    } else if (!this.later && sharedArena.extend(this.slab, this.offset + this.runBytes, chunk, start, start + take)) {
      this.runBytes += take;
    } else {
      const slab = sharedArena.copy(chunk, start, start + take);
      (this.later ??= []).push(slab.subarray(sharedArena.offset, sharedArena.offset + take));
    }
    this.kept += take;
    return take;
  }

  get truncated(): boolean {
    return this.size > this.kept;
  }

  /** The kept bytes (a view of the arena when they are one run: read, do not write). */
  bytes(): Buffer {
    if (!this.slab) return Buffer.alloc(0);
    const run = this.slab.subarray(this.offset, this.offset + this.runBytes);
    return this.later ? Buffer.concat([run, ...this.later], this.kept) : run;
  }
}

/** The preview of a body that never came (shared: nothing is added to it). */
export const NO_BODY = Object.freeze(new BodyPreview(0)) as BodyPreview;
