import { BODY_PREVIEW_BYTES } from '../../../protocol/inspect';

/**
 * The first `limit` bytes of a body, kept as they came; the rest is only counted. The bytes are
 * kept as a latin1 string (one byte per char, lossless): a copy on the JS heap, sized exactly,
 * that never pins the data path's pooled 8 KiB buffers and costs the GC far less than a Buffer.
 */
export class BodyPreview {
  private kept_ = '';
  /** Bytes seen (the whole body so far). */
  size = 0;

  constructor(private readonly limit = BODY_PREVIEW_BYTES) {}

  /** Adds a chunk; returns how many bytes were kept of it (for the ring's memory count). */
  add(chunk: Buffer): number {
    this.size += chunk.length;
    const room = this.limit - this.kept_.length;
    if (room <= 0) return 0;
    const take = Math.min(room, chunk.length);
    this.kept_ += chunk.toString('latin1', 0, take);
    return take;
  }

  /** Bytes kept. */
  get kept(): number {
    return this.kept_.length;
  }

  get truncated(): boolean {
    return this.size > this.kept_.length;
  }

  bytes(): Buffer {
    return Buffer.from(this.kept_, 'latin1');
  }
}

/** The preview of a body that never came (shared: nothing is added to it). */
export const NO_BODY = Object.freeze(new BodyPreview(0)) as BodyPreview;
