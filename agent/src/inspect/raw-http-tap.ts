/**
 * The request inspector on the fast path: the raw bytes of one visitor connection, both ways, are
 * parsed beside the pipe (never in it) into exchanges reported to the observer as the route
 * table's handlers report theirs. Requests are matched to answers in order (HTTP/1.1 pipelining).
 * A parse failure stops the tap for that connection; the bytes flow on untouched either way.
 */
import { HTTPParser } from 'http-parser-js';
import type { HttpRawOpen } from '../../../protocol/stream-head';
import type { ExchangeObserver, ExchangeTap } from '../serve/exchange-observer';
import { headerMap } from '../serve/http-exchange';
import type { RawBytesTap } from '../serve/raw-http-proxy';

interface Pending {
  tap: ExchangeTap;
  head: boolean;
  /** The request's own body is over (its answer may still come). */
  requestDone: boolean;
}

export class RawHttpTap implements RawBytesTap {
  private readonly requests = new HTTPParser(HTTPParser.REQUEST);
  private readonly responses = new HTTPParser(HTTPParser.RESPONSE);
  /** Requests seen whose answers have not ended, oldest first. */
  private readonly pending: Pending[] = [];
  /** The request being received (its body chunks go to it). */
  private receiving: Pending | undefined;
  /** The answer being received. */
  private answering: Pending | undefined;
  private stopped = false;
  /** After a 101 (or CONNECT): the bytes are another protocol's. */
  private tunneled = false;

  constructor(
    private readonly observer: ExchangeObserver,
    private readonly open: HttpRawOpen,
  ) {
    this.requests[HTTPParser.kOnHeadersComplete] = (info) => {
      const rawHeaders = info.headers;
      const entry: Pending = {
        tap: this.observer.begin({
          method: HTTPParser.methods[info.method] ?? 'GET',
          url: info.url,
          rawHeaders,
          headers: headerMap(rawHeaders),
          host: this.open.host,
          proto: this.open.proto,
          remoteAddress: this.open.remoteAddress,
          remotePort: this.open.remotePort,
        }),
        head: HTTPParser.methods[info.method] === 'HEAD',
        requestDone: false,
      };
      this.pending.push(entry);
      this.receiving = entry;
    };
    this.requests[HTTPParser.kOnBody] = (chunk, offset, length) => this.receiving?.tap.requestBody(chunk.subarray(offset, offset + length));
    this.requests[HTTPParser.kOnMessageComplete] = () => {
      if (this.receiving) this.receiving.requestDone = true;
      this.receiving = undefined;
    };
    this.responses[HTTPParser.kOnHeadersComplete] = (info) => {
      const entry = this.pending[0];
      // Interim answers (100 Continue, 103) precede the real one: not reported.
      if (!entry || (info.statusCode >= 100 && info.statusCode < 200 && info.statusCode !== 101)) return 0;
      this.answering = entry;
      entry.tap.responseHead(info.statusCode, info.headers);
      if (info.statusCode === 101) this.tunneled = true;
      // A HEAD's answer has no body, whatever its Content-Length says.
      return entry.head ? 1 : 0;
    };
    this.responses[HTTPParser.kOnBody] = (chunk, offset, length) => this.answering?.tap.responseBody(chunk.subarray(offset, offset + length));
    this.responses[HTTPParser.kOnMessageComplete] = () => {
      const entry = this.answering;
      if (!entry) return;
      this.answering = undefined;
      this.pending.splice(this.pending.indexOf(entry), 1);
      entry.tap.end();
    };
  }

  fromVisitor(chunk: Buffer): void {
    if (this.stopped || this.tunneled) return;
    if (this.requests.execute(chunk) instanceof Error) this.stop('the inspector could not parse the request');
  }

  fromOrigin(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.tunneled) return this.finishTunnel();
    const result = this.responses.execute(chunk);
    if (result instanceof Error) this.stop('the inspector could not parse the answer');
    else if (this.tunneled) this.finishTunnel();
  }

  close(error?: string): void {
    if (this.stopped) return;
    // An answer without framing ends with the connection: finish() completes it.
    if (!error && this.answering) this.responses.finish();
    this.stop(error ?? 'connection closed before the answer ended');
  }

  /** The exchange that switched protocols is over as far as HTTP goes. */
  private finishTunnel(): void {
    const entry = this.answering ?? this.pending[0];
    if (entry) entry.tap.end();
    this.pending.length = 0;
    this.answering = undefined;
    this.stopped = true;
  }

  private stop(reason: string): void {
    this.stopped = true;
    for (const entry of this.pending.splice(0)) entry.tap.end(reason);
    this.receiving = this.answering = undefined;
  }
}
