import { BODY_PREVIEW_BYTES } from '../../../protocol/inspect';

/** The first `limit` bytes of a body, kept as they came; the rest is only counted. */
export class BodyPreview {
  private chunks: Buffer[] = [];
  /** Bytes kept. */
  kept = 0;
  /** Bytes seen (the whole body so far). */
  size = 0;

  constructor(private readonly limit = BODY_PREVIEW_BYTES) {}

  /** Adds a chunk; returns how many bytes were kept of it (for the ring's memory count). */
  add(chunk: Buffer): number {
    this.size += chunk.length;
    const room = this.limit - this.kept;
    if (room <= 0) return 0;
    // A copy: the chunk's memory belongs to the data path (and may be a pooled frame buffer).
    const part = Buffer.from(chunk.subarray(0, room));
    this.chunks.push(part);
    this.kept += part.length;
    return part.length;
  }

  get truncated(): boolean {
    return this.size > this.kept;
  }

  bytes(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.kept)];
    return this.chunks[0];
  }
}
