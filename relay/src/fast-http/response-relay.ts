import type { Socket } from 'node:net';
import { ViewReturn } from '../../../mux/payload-lease';
import { counters } from '../admin/counters';
import { BodyScanner } from './body-framing';
import { parseResponseHead } from './response-head';

/** What the response side needs from its fast connection (FastConnection implements it). */
export interface ResponseRelayOwner {
  /** Bytes flow untouched both ways (after a 101). */
  readonly raw: boolean;
  /** Nothing more is answered or forwarded. */
  readonly finished: boolean;
  /** Methods of forwarded requests whose responses have not finished, oldest first. */
  readonly awaiting: readonly string[];
  /** The last request forwarded asked for an upgrade: only its answer may be a 101. */
  readonly upgradeRequested: boolean;
  /** The origin answered the upgrade with a 101 (its head is out): the connection turns raw. */
  switchedProtocols(): void;
  /** The response being relayed ends the connection (Connection: close). */
  closeAfterResponse(): void;
  /** A whole response is out (the connection may go on, hand off, close…). */
  responseFinished(): void;
  /** The origin switched protocols unasked. */
  refuseUnsolicitedSwitch(method: string): void;
  /** The origin's response head is malformed: the visitor gets a 502 saying why. */
  refuseBadResponse(method: string, reason: string): void;
  /** Part of an answer is out and the rest cannot be trusted: the visitor must see it cut. */
  reset(): void;
  destroy(): void;
  /** The visitor's socket is full: stop reading the stream until it drains. */
  pauseResponses(): void;
}

const EMPTY = Buffer.alloc(0);

/**
 * The response side of one fast-path connection: what the stream brings (the origin's answers)
 * is scanned only for its framing, to know where each response ends, and written to the visitor
 * as the same bytes. The slices one chunk yields leave in one write (writev); chunks lent from a
 * pooled receive buffer (mux/payload-lease.ts) are given back once the visitor's socket wrote them.
 */
export class ResponseRelay {
  /** A response head not complete yet (its bytes so far). */
  private unread: Buffer = EMPTY;
  /** The body of the response being relayed (none between responses). */
  private body: BodyScanner | undefined;
  /** Writes to the visitor while one chunk of responses is scanned (-1: not scanning one). */
  private clientWrites = -1;
  /** Set while a lent chunk is written: each write of its bytes holds it. */
  private viewReturn: ViewReturn | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly owner: ResponseRelayOwner,
  ) {}

  /** A response body is being relayed (part of an answer is out). */
  get inBody(): boolean {
    return this.body !== undefined;
  }

  /** The body being relayed ends only when the origin closes (no length, not chunked). */
  get awaitsClose(): boolean {
    return this.body !== undefined && !this.body.done;
  }

  /** Nothing of an answer has arrived since the last one finished. */
  get idle(): boolean {
    return this.body === undefined && this.unread.length === 0;
  }

  /** The stream's 'data' listener. */
  readonly onData = (chunk: Buffer): void => {
    const back = (this.viewReturn = ViewReturn.of(chunk));
    try {
      if (this.owner.raw) return this.write(chunk);
      // The slices one chunk yields leave in one write (writev), not one syscall each: the socket
      // is corked at the second (see write); a lone slice (head and body start) is written at
      // once, without the cork's buffering.
      this.clientWrites = 0;
      this.scan(chunk);
    } finally {
      if (this.clientWrites > 1) this.socket.uncork();
      this.clientWrites = -1;
      this.viewReturn = undefined;
      back?.done(this.unread.buffer === chunk.buffer); // a partial head still points into it
    }
  };

  private scan(chunk: Buffer): void {
    const owner = this.owner;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.body) {
        let taken: number;
        try {
          taken = this.body.scan(chunk, offset);
        } catch {
          return owner.reset(); // part of this body is out: the visitor must see it cut
        }
        this.write(chunk.subarray(offset, offset + taken));
        offset += taken;
        if (!this.body.done) return;
        this.body = undefined;
        owner.responseFinished();
        if (owner.finished) return;
        continue;
      }
      const unscanned = offset === 0 ? chunk : chunk.subarray(offset);
      this.unread = this.unread.length === 0 ? unscanned : Buffer.concat([this.unread, unscanned]);
      offset = chunk.length;
      const method = owner.awaiting[0];
      if (method === undefined) return owner.destroy(); // a response nobody asked for
      const result = parseResponseHead(this.unread, method);
      if (result.status === 'need-more') return;
      if (result.status === 'error') return owner.refuseBadResponse(method, result.reason);
      const head = result.head;
      // A 101 nobody asked for would turn the connection raw, and later requests (maybe for
      // another tunnel, behind a pooling proxy) would reach this origin: refuse it. An upgrade
      // request is the last one forwarded on a connection, so it is awaited alone.
      if (head.status === 101 && !(owner.upgradeRequested && owner.awaiting.length === 1)) return owner.refuseUnsolicitedSwitch(method);
      const whole = this.unread;
      this.unread = EMPTY;
      if (head.status >= 200 || head.status === 101) counters.response(head.status);
      if (head.status === 101) {
        this.write(whole.subarray(0, head.size));
        owner.switchedProtocols();
        return this.write(whole.subarray(head.size));
      }
      if (head.status >= 100 && head.status < 200) {
        this.write(whole.subarray(0, head.size));
        chunk = whole; // an interim response (100 Continue): the final one follows
        offset = head.size;
        continue;
      }
      if (head.close) owner.closeAfterResponse(); // also instead of a hand-off or a refusal
      this.body = new BodyScanner(head.framing);
      // The head and the start of its body (a small answer: all of it) usually arrive together:
      // they leave in one write, not two.
      let taken: number;
      try {
        taken = this.body.scan(whole, head.size);
      } catch {
        this.write(whole.subarray(0, head.size));
        return owner.reset(); // part of this response is out: the visitor must see it cut
      }
      const sent = head.size + taken;
      this.write(sent === whole.length ? whole : whole.subarray(0, sent));
      if (this.body.done) {
        this.body = undefined;
        owner.responseFinished();
        if (owner.finished) return;
      }
      chunk = whole;
      offset = sent;
    }
  }

  private write(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.clientWrites >= 0 && ++this.clientWrites === 2) this.socket.cork();
    if (!this.socket.write(bytes, this.viewReturn?.afterWrite())) this.owner.pauseResponses();
  }
}
