/**
 * One direction of an HTTP/1.x connection read beside the pipe: heads are read in place from
 * the bytes they came in (readHttpHead), bodies are only walked by their framing (BodyReader).
 * A head split across reads is copied until complete (the reads are pooled buffers); nothing
 * else is copied or allocated here: the head and body readers are reused for every message.
 * Malformed bytes throw (HttpHeadError, BodyFramingError).
 */
import { BodyReader, type BodySink, type Framing } from './body-framing';
import { HttpHead, HttpHeadError, readHttpHead } from './http-head';

/** A head longer than this is not HTTP we can follow (Node's own limit is 16 KiB). */
export const MAX_HEAD_BYTES = 64 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');

export interface MessageHandler extends BodySink {
  /** A head arrived (valid during the call only): says how its body is framed. */
  head(head: HttpHead): Framing;
  /** The message (head and body) is over. */
  end(): void;
}

export class HttpMessageReader {
  /** The start of a head split across reads (copies). */
  private partial: Buffer | undefined;
  private readonly head = new HttpHead();
  private readonly body = new BodyReader();
  private inBody = false;
  /** Set by the handler (an upgrade): bytes are ignored until resumed. */
  paused = false;

  constructor(
    private readonly isRequest: boolean,
    private readonly handler: MessageHandler,
  ) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.paused) {
      if (this.inBody) {
        const end = this.body.read(chunk, offset, this.handler);
        if (end < 0) return;
        offset = end;
        this.inBody = false;
        this.handler.end();
      } else {
        offset = this.partial ? this.readSplitHead(chunk, offset) : this.readHead(chunk, offset);
        if (offset < 0) return;
      }
    }
  }

  /** True while a body that only the close can end is being read. */
  get inBodyUntilClose(): boolean {
    return this.inBody && this.body.endsWithClose;
  }

  /** The connection closed: a body framed by the close is complete. */
  finish(): void {
    if (this.inBodyUntilClose) {
      this.inBody = false;
      this.handler.end();
    }
  }

  /** Reads a head from `chunk` at `offset` in place; returns where its body starts, or -1 if incomplete. */
  private readHead(chunk: Buffer, offset: number): number {
    const bodyStart = readHttpHead(chunk, offset, chunk.length, this.isRequest, this.head);
    if (bodyStart < 0) {
      if (chunk.length - offset > MAX_HEAD_BYTES) throw new HttpHeadError('head too large');
      this.partial = Buffer.from(chunk.subarray(offset));
      return -1;
    }
    this.headRead();
    return bodyStart;
  }

  /** The rest of a head begun in earlier reads: joined, and read once its blank line came. */
  private readSplitHead(chunk: Buffer, offset: number): number {
    const partial = this.partial!;
    const joined = Buffer.concat([partial, chunk.subarray(offset)]);
    // The blank line may straddle the reads: search from 3 bytes before the join.
    const blank = joined.indexOf(HEAD_END, Math.max(0, partial.length - 3));
    if (blank < 0) {
      if (joined.length > MAX_HEAD_BYTES) throw new HttpHeadError('head too large');
      this.partial = joined;
      return -1;
    }
    if (readHttpHead(joined, 0, joined.length, this.isRequest, this.head) !== blank + 4) throw new HttpHeadError('head not where its blank line is');
    this.partial = undefined;
    this.headRead();
    return offset + blank + 4 - partial.length;
  }

  private headRead(): void {
    if (this.head.length > MAX_HEAD_BYTES) throw new HttpHeadError('head too large');
    const framing = this.handler.head(this.head);
    if (framing === 0) this.handler.end();
    else {
      this.body.reset(framing);
      this.inBody = true;
    }
  }
}
