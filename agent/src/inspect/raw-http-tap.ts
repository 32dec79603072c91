/**
 * The request inspector on the fast path: the raw bytes of one visitor connection, both ways, are
 * read beside the pipe (never in it) into exchanges reported to the observer as the route
 * table's handlers report theirs. Requests are matched to answers in order (HTTP/1.1 pipelining).
 * Only heads are parsed; bodies are walked by their framing and handed over as slices (the
 * inspector copies the first 64 KiB and counts the rest). A parse failure stops the tap for that
 * connection; the bytes flow on untouched either way.
 */
import type { HttpRawOpen } from '../../../protocol/stream-head';
import type { ExchangeTap } from '../serve/exchange-observer';
import type { RawBytesTap } from '../serve/raw-http-proxy';
import type { Framing } from './body-framing';
import type { HttpHead } from './http-head';
import { HttpMessageReader } from './http-message-reader';

/** An exchange as the tap reports it: heads are handed over as their text (parsed if someone looks). */
export interface RawExchangeTap extends Omit<ExchangeTap, 'responseHead'> {
  /** The answer's head: its bytes are only valid during the call. */
  responseHead(status: number, head: HttpHead): void;
}

/** Watches the exchanges the tap reads (the request inspector). */
export interface RawExchangeObserver {
  beginRaw(head: HttpHead, open: HttpRawOpen): RawExchangeTap;
}

interface Pending {
  tap: RawExchangeTap;
  /** A HEAD: its answer has no body. */
  head: boolean;
  /** It asked to switch protocols (Upgrade, CONNECT): the visitor's bytes stop being HTTP if accepted. */
  upgrade: boolean;
  connect: boolean;
}

const NO_BODY: Framing = { kind: 'none' };
const CHUNKED: Framing = { kind: 'chunked' };
const UNTIL_CLOSE: Framing = { kind: 'close' };

export class RawHttpTap implements RawBytesTap {
  /** Requests seen whose answers have not ended, oldest first. */
  private readonly pending: Pending[] = [];
  /** The request being received (its body goes to it). */
  private receiving: Pending | undefined;
  /** The answer being received. */
  private answering: Pending | undefined;
  private stopped = false;

  private readonly requests = new HttpMessageReader(true, {
    head: (head) => this.requestHead(head),
    body: (data) => this.receiving?.tap.requestBody(data),
    end: () => {
      this.receiving = undefined;
    },
  });

  private readonly responses = new HttpMessageReader(false, {
    head: (head) => this.responseHead(head),
    body: (data) => this.answering?.tap.responseBody(data),
    end: () => this.responseEnd(),
  });

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

  private requestHead(head: HttpHead): Framing {
    const entry: Pending = {
      tap: this.observer.beginRaw(head, this.open),
      head: head.method === 'HEAD',
      upgrade: head.upgrade || head.method === 'CONNECT',
      connect: head.method === 'CONNECT',
    };
    this.pending.push(entry);
    this.receiving = entry;
    // Whatever follows an upgrade request is not HTTP if it is accepted: wait for the answer.
    if (entry.upgrade) this.requests.paused = true;
    if (head.transferEncoding === 'chunked') return CHUNKED;
    if (head.transferEncoding === 'other') throw new Error('a request body framed by the close');
    return head.contentLength ? { kind: 'length', bytes: head.contentLength } : NO_BODY;
  }

  private responseHead(head: HttpHead): Framing {
    const entry = this.pending[0];
    const status = head.status;
    // Interim answers (100 Continue, 103) precede the real one: not reported.
    if (status < 200 && status !== 101) return NO_BODY;
    if (!entry) throw new Error('an answer without a request');
    this.answering = entry;
    entry.tap.responseHead(status, head);
    if (status === 101 || (entry.connect && status < 300)) {
      // Switched protocols: the exchange is over as far as HTTP goes, and so is the tap.
      this.responses.paused = true;
      return NO_BODY;
    }
    // A HEAD's answer, a 204 and a 304 have no body, whatever their Content-Length says.
    if (entry.head || status === 204 || status === 304) return NO_BODY;
    if (head.transferEncoding === 'chunked') return CHUNKED;
    if (head.transferEncoding === 'other' || head.contentLength === undefined) return UNTIL_CLOSE;
    return head.contentLength ? { kind: 'length', bytes: head.contentLength } : NO_BODY;
  }

  private responseEnd(): void {
    const entry = this.answering;
    if (!entry) return; // an interim answer
    this.answering = undefined;
    this.pending.shift();
    entry.tap.end();
    if (this.responses.paused) this.stopped = true; // switched protocols
    else if (entry.upgrade) this.requests.paused = false; // refused: the visitor speaks HTTP again
  }

  private stop(reason: string): void {
    this.stopped = true;
    for (const entry of this.pending.splice(0)) entry.tap.end(reason);
    this.receiving = this.answering = undefined;
  }
}
