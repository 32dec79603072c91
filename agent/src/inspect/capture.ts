import type { CaptureState } from '../../../protocol/inspect';
import type { ExchangeTap } from '../serve/exchange-observer';
import { BodyPreview, NO_BODY } from './body-preview';
import { rawHeadersOf } from './http-head';
import type { RingEntry } from './capture-ring';

/** Where a capture's changes go: the inspector's ring (memory) and its listeners. */
export interface CaptureOwner {
  charge(capture: Capture, more: number): void;
  changed(capture: Capture): void;
}

/** Fixed overhead counted per request beside its headers and bodies. */
export const ENTRY_OVERHEAD_BYTES = 512;

/**
 * Headers as a name/value list, or as the text of a head whose header lines start at `from`
 * (the fast path's tap): made into a list only when asked for.
 */
type Headers = string[] | string;

function headerBytes(headers: Headers, from: number): number {
  if (typeof headers === 'string') return headers.length - from;
  let n = 0;
  for (const s of headers) n += s.length;
  return n;
}

const NO_HEADERS: string[] = [];

/**
 * One request being (or done being) captured: the facts of the wire record (CapturedRequest) as
 * they become known. Kept small because the ring holds hundreds of them and each one is made on
 * the data path's side: flat fields, headers kept as the head's text until someone looks, body
 * previews made only when a body comes, and the capture is its own ExchangeTap (no closures).
 */
export class Capture implements RingEntry, ExchangeTap {
  cost: number;
  readonly startedAt = Date.now();
  /** performance.now() at the start, for durations that do not jump with the wall clock. */
  private readonly startedMono = performance.now();
  state: CaptureState = 'pending';
  status: number | undefined = undefined;
  ttfbMs: number | undefined = undefined;
  durationMs: number | undefined = undefined;
  error: string | undefined = undefined;
  private reqHeaders: Headers;
  private resHeaders: Headers = NO_HEADERS;
  private resHeadersFrom = 0;
  private reqBody: BodyPreview | undefined = undefined;
  private resBody: BodyPreview | undefined = undefined;

  constructor(
    private readonly owner: CaptureOwner,
    readonly id: number,
    readonly route: string,
    readonly method: string,
    readonly path: string,
    readonly host: string,
    readonly proto: 'http' | 'https',
    readonly clientAddress: string,
    readonly replayOf: number | undefined,
    requestHeaders: Headers,
    private readonly reqHeadersFrom = 0,
  ) {
    this.reqHeaders = requestHeaders;
    this.cost = ENTRY_OVERHEAD_BYTES + headerBytes(requestHeaders, reqHeadersFrom) + path.length;
  }

  /** Name/value pairs as received (parsed from the kept head the first time they are asked for). */
  get requestHeaders(): string[] {
    if (typeof this.reqHeaders === 'string') this.reqHeaders = rawHeadersOf(this.reqHeaders, this.reqHeadersFrom);
    return this.reqHeaders;
  }

  get responseHeaders(): string[] {
    if (typeof this.resHeaders === 'string') this.resHeaders = rawHeadersOf(this.resHeaders, this.resHeadersFrom);
    return this.resHeaders;
  }

  /** The request body's first bytes (tap methods take the names requestBody/responseBody). */
  get requestPreview(): BodyPreview {
    return this.reqBody ?? NO_BODY;
  }

  get responsePreview(): BodyPreview {
    return this.resBody ?? NO_BODY;
  }

  requestBody(chunk: Buffer): void {
    this.reqBody ??= new BodyPreview();
    this.owner.charge(this, this.reqBody.add(chunk));
  }

  /** `headers` a list, or a head's text with its header lines from `from` (parsed if asked for). */
  responseHead(status: number, headers: Headers, from = 0): void {
    this.status = status;
    this.resHeaders = headers;
    this.resHeadersFrom = from;
    this.ttfbMs = this.elapsedMs();
    this.state = 'streaming';
    this.owner.charge(this, headerBytes(headers, from));
    this.owner.changed(this);
  }

  responseBody(chunk: Buffer): void {
    this.resBody ??= new BodyPreview();
    this.owner.charge(this, this.resBody.add(chunk));
  }

  end(error?: string): void {
    this.durationMs = this.elapsedMs();
    this.state = error ? 'reset' : 'complete';
    this.error = error;
    this.owner.changed(this);
  }

  private elapsedMs(): number {
    return performance.now() - this.startedMono;
  }
}
