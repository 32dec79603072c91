/**
 * One direction of an HTTP/1.x connection read beside the pipe: heads are found by their blank
 * line and parsed alone (parseHttpHead), bodies are only walked by their framing (BodyReader).
 * A head split across reads is copied until complete (the reads are pooled buffers); nothing
 * else is copied here. Malformed bytes throw (HttpHeadError, BodyFramingError).
 */
import { BodyReader, type Framing } from './body-framing';
import { HttpHeadError, parseHttpHead, type HttpHead } from './http-head';

/** A head longer than this is not HTTP we can follow (Node's own limit is 16 KiB). */
export const MAX_HEAD_BYTES = 64 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');

export interface MessageHandler {
  /** A head arrived: says how its body is framed. */
  head(head: HttpHead): Framing;
  body(data: Buffer): void;
  /** The message (head and body) is over. */
  end(): void;
}

export class HttpMessageReader {
  /** The start of a head split across reads (copies). */
  private partial: Buffer | undefined;
  private body: BodyReader | undefined;
  /** Set by the handler (an upgrade): bytes are ignored until resumed. */
  paused = false;
  /** Made once: a closure per read would be garbage per read. */
  private readonly onBody = (data: Buffer): void => this.handler.body(data);

  constructor(
    private readonly isRequest: boolean,
    private readonly handler: MessageHandler,
  ) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.paused) {
      if (this.body) {
        const end = this.body.read(chunk, offset, this.onBody);
        if (end < 0) return;
        offset = end;
        this.body = undefined;
        this.handler.end();
      } else {
        offset = this.readHead(chunk, offset);
        if (offset < 0) return;
      }
    }
  }

  /** True while a body that only the close can end is being read. */
  get inBodyUntilClose(): boolean {
    return this.body?.endsWithClose === true;
  }

  /** The connection closed: a body framed by the close is complete. */
  finish(): void {
    if (this.body?.endsWithClose) {
      this.body = undefined;
      this.handler.end();
    }
  }

  /** Reads a head from `chunk` at `offset`; returns where its body starts, or -1 if incomplete. */
  private readHead(chunk: Buffer, offset: number): number {
    let bytes = chunk;
    let start = offset;
    let from = offset;
    if (this.partial) {
      // The blank line may straddle the reads: search from 3 bytes before the join.
      from = Math.max(0, this.partial.length - 3);
      bytes = Buffer.concat([this.partial, chunk.subarray(offset)]);
      start = 0;
    }
    const blank = bytes.indexOf(HEAD_END, from);
    if (blank < 0) {
      if (bytes.length - start > MAX_HEAD_BYTES) throw new HttpHeadError('head too large');
      this.partial = bytes === chunk ? Buffer.from(chunk.subarray(offset)) : bytes;
      return -1;
    }
    if (blank - start > MAX_HEAD_BYTES) throw new HttpHeadError('head too large');
    const head = parseHttpHead(bytes.toString('latin1', start, blank), this.isRequest, bytes, start);
    const bodyStart = bytes === chunk ? blank + 4 : offset + blank + 4 - this.partial!.length;
    this.partial = undefined;
    const framing = this.handler.head(head);
    if (framing.kind === 'none') this.handler.end();
    else this.body = new BodyReader(framing);
    return bodyStart;
  }
}
