/**
 * The request inspector on the fast path: the raw bytes of one visitor connection, both ways, are
 * read beside the pipe (never in it) into exchanges reported to the observer as the route
 * table's handlers report theirs. Requests are matched to answers in order (HTTP/1.1 pipelining).
 * Only heads are parsed, in place; bodies are walked by their framing and handed over as ranges
 * of the reads (the inspector copies the first 64 KiB and counts the rest). Per request nothing
 * is allocated here: the readers are reused, what a request needs remembered is a few bits. A parse failure stops the tap for that
 * connection; the bytes flow on untouched either way.
 */
import type { HttpRawOpen } from '../../../protocol/stream-head';
import type { RawBytesTap } from '../serve/raw-http-proxy';
import { CHUNKED, NO_BODY, UNTIL_CLOSE, type Framing } from './body-framing';
import type { HttpHead } from './http-head';
import { HttpMessageReader, type MessageHandler } from './http-message-reader';

/** An exchange as the tap reports it: heads and body bytes are only valid during the call. */
export interface RawExchangeTap {
  requestBody(source: Buffer, start: number, end: number): void;
  responseHead(status: number, head: HttpHead): void;
  responseBody(source: Buffer, start: number, end: number): void;
  /** Once per exchange; `error` when it did not complete (reset, cut). */
  end(error?: string): void;
}

/** Watches the exchanges the tap reads (the request inspector). */
export interface RawExchangeObserver {
  beginRaw(head: HttpHead, open: HttpRawOpen): RawExchangeTap;
}

/** What the tap remembers of a request until its answer ended (bits of a number: no object per request). */
const IS_HEAD = 1;
/** It asked to switch protocols (Upgrade, CONNECT): the visitor's bytes stop being HTTP if accepted. */
const UPGRADE = 2;
const CONNECT = 4;

/** The visitor's side: requests. */
class RequestSide implements MessageHandler {
  constructor(private readonly tap: RawHttpTap) {}
  head(head: HttpHead): Framing {
    return this.tap.requestHead(head);
  }
  body(source: Buffer, start: number, end: number): void {
    this.tap.receiving?.requestBody(source, start, end);
  }
  end(): void {
    this.tap.receiving = undefined;
  }
}

/** The origin's side: answers. */
class ResponseSide implements MessageHandler {
  constructor(private readonly tap: RawHttpTap) {}
  head(head: HttpHead): Framing {
    return this.tap.responseHead(head);
  }
  body(source: Buffer, start: number, end: number): void {
    this.tap.answering?.responseBody(source, start, end);
  }
  end(): void {
    this.tap.responseEnd();
  }
}

export class RawHttpTap implements RawBytesTap {
  /** Requests seen whose answers have not ended, oldest first, and their IS_HEAD/UPGRADE/CONNECT bits. */
  private readonly pending: RawExchangeTap[] = [];
  private readonly pendingBits: number[] = [];
  /** The request being received (its body goes to it). */
  receiving: RawExchangeTap | undefined;
  /** The answer being received. */
  answering: RawExchangeTap | undefined;
  private answeringBits = 0;
  private stopped = false;
  private readonly requests = new HttpMessageReader(true, new RequestSide(this));
  private readonly responses = new HttpMessageReader(false, new ResponseSide(this));

  constructor(
    private readonly observer: RawExchangeObserver,
    private readonly open: HttpRawOpen,
  ) {}

  fromVisitor(chunk: Buffer): void {
    if (this.stopped) return;
    try {
      this.requests.push(chunk);
    } catch {
      this.stop('the inspector could not parse the request');
    }
  }

  fromOrigin(chunk: Buffer): void {
    if (this.stopped) return;
    try {
      this.responses.push(chunk);
    } catch {
      this.stop('the inspector could not parse the answer');
    }
  }

  close(error?: string): void {
    if (this.stopped) return;
    // An answer without framing ends with the connection.
    if (!error) this.responses.finish();
    this.stop(error ?? 'connection closed before the answer ended');
  }

  requestHead(head: HttpHead): Framing {
    const method = head.method;
    const connect = method === 'CONNECT';
    const bits = (method === 'HEAD' ? IS_HEAD : 0) | (head.upgrade || connect ? UPGRADE : 0) | (connect ? CONNECT : 0);
    const tap = this.observer.beginRaw(head, this.open);
    this.pending.push(tap);
    this.pendingBits.push(bits);
    this.receiving = tap;
    // Whatever follows an upgrade request is not HTTP if it is accepted: wait for the answer.
    if (bits & UPGRADE) this.requests.paused = true;
    if (head.transferEncoding === 'chunked') return CHUNKED;
    if (head.transferEncoding === 'other') throw new Error('a request body framed by the close');
    return head.contentLength ?? NO_BODY;
  }

  responseHead(head: HttpHead): Framing {
    const status = head.status;
    // Interim answers (100 Continue, 103) precede the real one: not reported.
    if (status < 200 && status !== 101) return NO_BODY;
    const tap = this.pending[0];
    if (!tap) throw new Error('an answer without a request');
    const bits = this.pendingBits[0];
    this.answering = tap;
    this.answeringBits = bits;
    tap.responseHead(status, head);
    if (status === 101 || (bits & CONNECT && status < 300)) {
      // Switched protocols: the exchange is over as far as HTTP goes, and so is the tap.
      this.responses.paused = true;
      return NO_BODY;
    }
    // A HEAD's answer, a 204 and a 304 have no body, whatever their Content-Length says.
    if (bits & IS_HEAD || status === 204 || status === 304) return NO_BODY;
    if (head.transferEncoding === 'chunked') return CHUNKED;
    if (head.transferEncoding === 'other' || head.contentLength === undefined) return UNTIL_CLOSE;
    return head.contentLength;
  }

  responseEnd(): void {
    const tap = this.answering;
    if (!tap) return; // an interim answer
    this.answering = undefined;
    this.pending.shift();
    this.pendingBits.shift();
    tap.end();
    if (this.responses.paused) this.stopped = true; // switched protocols
    else if (this.answeringBits & UPGRADE) this.requests.paused = false; // refused: the visitor speaks HTTP again
  }

  private stop(reason: string): void {
    this.stopped = true;
    this.pendingBits.length = 0;
    for (const tap of this.pending.splice(0)) tap.end(reason);
    this.receiving = this.answering = undefined;
  }
}
