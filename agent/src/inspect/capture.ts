import type { CaptureState } from '../../../protocol/inspect';
import type { ExchangeTap } from '../serve/exchange-observer';
import { BodyPreview, NO_BODY } from './body-preview';
import { sharedArena } from './byte-arena';
import { rawHeadersOf, type HttpHead } from './http-head';
import type { RingEntry } from './capture-ring';

/** Where a capture's changes go: the inspector's ring (memory) and its listeners. */
export interface CaptureOwner {
  charge(capture: Capture, more: number): void;
  changed(capture: Capture): void;
}

/** Fixed overhead counted per request beside its headers and bodies. */
export const ENTRY_OVERHEAD_BYTES = 512;

function headerBytes(headers: string[]): number {
  let n = 0;
  for (const s of headers) n += s.length;
  return n;
}

/**
 * A head the fast path's tap read, kept as a copy of its bytes in the arena (off the JS heap):
 * made into a name/value list only when someone looks.
 */
export class KeptHead {
  private readonly slab: Buffer;
  private readonly offset: number;

  constructor(
    head: HttpHead,
    /** Bytes of the head (without its blank line); the header lines start at `headersFrom`. */
    readonly length = head.text.length,
    private readonly headersFrom = head.headersFrom,
  ) {
    this.slab = sharedArena.copy(head.source, head.sourceStart, head.sourceStart + length);
    this.offset = sharedArena.offset;
  }

  rawHeaders(): string[] {
    return rawHeadersOf(this.slab.toString('latin1', this.offset, this.offset + this.length), this.headersFrom);
  }
}

type Headers = string[] | KeptHead;

function headersBytes(headers: Headers): number {
  return Array.isArray(headers) ? headerBytes(headers) : headers.length;
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
  ) {
    this.reqHeaders = requestHeaders;
    this.cost = ENTRY_OVERHEAD_BYTES + headersBytes(requestHeaders) + path.length;
  }

  /** Name/value pairs as received (parsed from the kept head the first time they are asked for). */
  get requestHeaders(): string[] {
    if (!Array.isArray(this.reqHeaders)) this.reqHeaders = this.reqHeaders.rawHeaders();
    return this.reqHeaders;
  }

  get responseHeaders(): string[] {
    if (!Array.isArray(this.resHeaders)) this.resHeaders = this.resHeaders.rawHeaders();
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

  /** `headers` a list, or a head the tap read (parsed if asked for). */
  responseHead(status: number, headers: string[] | HttpHead): void {
    this.status = status;
    this.resHeaders = Array.isArray(headers) ? headers : new KeptHead(headers);
    this.ttfbMs = this.elapsedMs();
    this.state = 'streaming';
    this.owner.charge(this, headersBytes(this.resHeaders));
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
