/**
 * Where captures keep their bytes (heads, body previews): copies packed one after another into
 * shared off-heap slabs. The garbage collector never copies or scans these bytes (a string or a
 * small Buffer per capture made every young-generation collection copy the ring's contents), and
 * a copy never pins the data path's pooled 8 KiB buffers. A slab is freed once no capture in it
 * is left: captures leave the ring in arrival order, so few slabs are held beyond the bytes kept.
 */
const SLAB_BYTES = 256 * 1024;
/** Copies larger than this get a slab of their own (exactly sized). */
const OWN_SLAB_OVER = 16 * 1024;

export class ByteArena {
  private slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private used = 0;
  /** Where the last copy() put its bytes in the slab it returned. */
  offset = 0;

  /** Copies source[start, end) in; returns the slab holding it (at `this.offset`). */
  copy(source: Buffer, start: number, end: number): Buffer {
    const length = end - start;
    if (length > OWN_SLAB_OVER) {
      const own = Buffer.allocUnsafeSlow(length);
      source.copy(own, 0, start, end);
      this.offset = 0;
      return own;
    }
    if (this.used + length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    source.copy(this.slab, this.used, start, end);
    this.offset = this.used;
    this.used += length;
    return this.slab;
  }

  /**
   * Appends source[start, end) right after a copy that ends at `copyEnd` in `slab`, if that copy
   * is still the last one made and there is room; returns whether it did.
   */
  extend(slab: Buffer, copyEnd: number, source: Buffer, start: number, end: number): boolean {
    if (slab !== this.slab || copyEnd !== this.used || this.used + (end - start) > slab.length) return false;
    source.copy(slab, this.used, start, end);
    this.used += end - start;
    return true;
  }
}

/** One arena for every inspector: the bytes are freed with the captures that hold them. */
export const sharedArena = new ByteArena();
