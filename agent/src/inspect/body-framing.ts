/**
 * Where one HTTP/1.x body ends, found from its framing alone: a Content-Length is counted, a
 * chunked body is walked size line by size line (its data is skipped by arithmetic, never
 * scanned), an unframed answer runs to the close. The data bytes are handed on as ranges of the
 * chunk they came in (no copy, not even a view); the inspector keeps only the first of them.
 */

export class BodyFramingError extends Error {}

/** How a body is framed: a Content-Length of that many bytes (0: no body), CHUNKED or UNTIL_CLOSE. */
export type Framing = number;
export const NO_BODY: Framing = 0;
export const CHUNKED: Framing = -1;
export const UNTIL_CLOSE: Framing = -2;

/** Where a body's data goes: source[start, end), valid only during the call. */
export interface BodySink {
  body(source: Buffer, start: number, end: number): void;
}

/** The largest chunk-size line we read (hex digits): 13 of them already exceed 2^52. */
const MAX_SIZE_DIGITS = 13;
/** Chunk extensions and trailer lines are skipped, but not without end. */
const MAX_LINE_BYTES = 16 * 1024;

const CR = 13;
const LF = 10;

const enum Chunked {
  /** Reading the hex digits of a chunk size. */
  Size,
  /** After the digits: an extension or spaces up to CR. */
  SizeRest,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  /** After the last chunk: at the start of a trailer line, or of the blank line that ends it all. */
  TrailerStart,
  Trailer,
  EndLf,
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** One direction's body reader, reset for each message (no object per body). */
export class BodyReader {
  private framing: Framing = NO_BODY;
  /** Body bytes still to come (length framing) or left in the current chunk (chunked). */
  private left = 0;
  private state = Chunked.Size;
  private digits = 0;
  private lineBytes = 0;

  /** Starts a body framed so. */
  reset(framing: Framing): void {
    this.framing = framing;
    this.left = framing > 0 ? framing : 0;
    this.state = Chunked.Size;
    this.digits = 0;
    this.lineBytes = 0;
  }

  /** True for a body that runs until the connection closes. */
  get endsWithClose(): boolean {
    return this.framing === UNTIL_CLOSE;
  }

  /**
   * Reads body bytes from `chunk` at `offset`, handing the data to `sink`; returns the offset
   * where the body ended (the next message starts there), or -1 when it goes on past the chunk.
   */
  read(chunk: Buffer, offset: number, sink: BodySink): number {
    if (this.framing === CHUNKED) return this.readChunked(chunk, offset, sink);
    if (this.framing === UNTIL_CLOSE) {
      if (offset < chunk.length) sink.body(chunk, offset, chunk.length);
      return -1;
    }
    const take = Math.min(this.left, chunk.length - offset);
    if (take > 0) sink.body(chunk, offset, offset + take);
    this.left -= take;
    return this.left === 0 ? offset + take : -1;
  }

  private readChunked(chunk: Buffer, offset: number, sink: BodySink): number {
    let i = offset;
    while (i < chunk.length) {
      if (this.state === Chunked.Data) {
        const take = Math.min(this.left, chunk.length - i);
        sink.body(chunk, i, i + take);
        this.left -= take;
        i += take;
        if (this.left === 0) this.state = Chunked.DataCr;
        continue;
      }
      const byte = chunk[i++];
      switch (this.state) {
        case Chunked.Size: {
          const digit = hexValue(byte);
          if (digit >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw new BodyFramingError('chunk size too large');
            this.left = this.left * 16 + digit;
          } else if (this.digits === 0) throw new BodyFramingError('chunk size expected');
          else if (byte === CR) this.state = Chunked.SizeLf;
          else this.enterLine(Chunked.SizeRest);
          break;
        }
        case Chunked.SizeRest:
          if (byte === CR) this.state = Chunked.SizeLf;
          else this.countLine();
          break;
        case Chunked.SizeLf:
          if (byte !== LF) throw new BodyFramingError('chunk size line not ended by CRLF');
          this.digits = 0;
          this.state = this.left === 0 ? Chunked.TrailerStart : Chunked.Data;
          break;
        case Chunked.DataCr:
          if (byte !== CR) throw new BodyFramingError('chunk data not followed by CRLF');
          this.state = Chunked.DataLf;
          break;
        case Chunked.DataLf:
          if (byte !== LF) throw new BodyFramingError('chunk data not followed by CRLF');
          this.state = Chunked.Size;
          break;
        case Chunked.TrailerStart:
          if (byte === CR) this.state = Chunked.EndLf;
          else this.enterLine(Chunked.Trailer);
          break;
        case Chunked.Trailer:
          if (byte === LF) this.state = Chunked.TrailerStart;
          else this.countLine();
          break;
        case Chunked.EndLf:
          if (byte !== LF) throw new BodyFramingError('chunked body not ended by a blank line');
          return i;
      }
    }
    return -1;
  }

  private enterLine(state: Chunked): void {
    this.state = state;
    this.lineBytes = 1;
  }

  private countLine(): void {
    if (++this.lineBytes > MAX_LINE_BYTES) throw new BodyFramingError('chunk extension or trailer line too long');
  }
}
