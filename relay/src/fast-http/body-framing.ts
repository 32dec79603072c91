/**
 * Finds where a message body ends in a byte stream, without copying it: the relay
 * forwards body bytes raw, and only needs to know where the next message starts.
 * Chunked framing is checked strictly (hex sizes, CRLF only, bounded size lines).
 */

export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'until-close' };

export class FramingError extends Error {}

const MAX_LINE = 4096;
const MAX_CHUNK_SIZE_DIGITS = 15;

export class BodyScanner {
  private remaining: number;
  private state: 'size' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'done';
  private line = '';
  private sawCr = false;

  constructor(private readonly framing: Framing) {
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    this.state = framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0) ? 'done' : framing.kind === 'chunked' ? 'size' : 'data';
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /**
   * Consumes body bytes from chunk (starting at offset); returns how many belong to this
   * body. When `done` turns true, the bytes after them start the next message.
   */
  scan(chunk: Buffer, offset = 0): number {
    if (this.state === 'done') return 0;
    if (this.framing.kind === 'until-close') return chunk.length - offset;
    if (this.framing.kind === 'length') {
      const take = Math.min(this.remaining, chunk.length - offset);
      this.remaining -= take;
      if (this.remaining === 0) this.state = 'done';
      return take;
    }
    let i = offset;
    while (i < chunk.length && !this.done) {
      switch (this.state) {
        case 'data': {
          const take = Math.min(this.remaining, chunk.length - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = 'data-cr';
          break;
        }
        case 'data-cr':
          if (chunk[i++] !== 13) throw new FramingError('chunk data not followed by CRLF');
          this.state = 'data-lf';
          break;
        case 'data-lf':
          if (chunk[i++] !== 10) throw new FramingError('chunk data not followed by CRLF');
          this.state = 'size';
          break;
        case 'size':
        case 'trailer': {
          const byte = chunk[i++];
          if (this.sawCr) {
            if (byte !== 10) throw new FramingError('bare CR in chunked framing');
            this.sawCr = false;
            this.endOfLine();
          } else if (byte === 13) {
            this.sawCr = true;
          } else if (byte === 10) {
            throw new FramingError('bare LF in chunked framing');
          } else {
            if (this.line.length >= MAX_LINE) throw new FramingError('chunk size line too long');
            this.line += String.fromCharCode(byte);
          }
          break;
        }
      }
    }
    return i - offset;
  }

  private endOfLine(): void {
    const line = this.line;
    this.line = '';
    if (this.state === 'trailer') {
      if (line.length === 0) this.state = 'done';
      else if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/.test(line)) throw new FramingError('malformed trailer');
      return;
    }
    const semicolon = line.indexOf(';');
    const digits = semicolon < 0 ? line : line.slice(0, semicolon);
    if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length > MAX_CHUNK_SIZE_DIGITS) throw new FramingError('malformed chunk size');
    if (semicolon >= 0 && !/^[\t\x20-\x7e\x80-\xff]*$/.test(line.slice(semicolon))) throw new FramingError('malformed chunk extension');
    const size = parseInt(digits, 16);
    if (size === 0) this.state = 'trailer';
    else {
      this.remaining = size;
      this.state = 'data';
    }
  }
}
