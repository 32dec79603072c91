import type { CaptureState } from '../../../protocol/inspect';
import type { ExchangeTap } from '../serve/exchange-observer';
import { BodyPreview, NO_BODY } from './body-preview';
import { sharedArena } from './byte-arena';
import { rawHeadersOf, type HttpHead } from './http-head';
import type { RingEntry } from './capture-ring';
import type { RawExchangeTap } from './raw-http-tap';

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

/** Name/value pairs from a head's bytes kept in the arena (its header lines from `from`). */
function keptHeaders(slab: Buffer, offset: number, length: number, from: number): string[] {
  return rawHeadersOf(slab.toString('latin1', offset, offset + length), from);
}

const NO_HEADERS: string[] = [];

/**
 * One request being (or done being) captured: the facts of the wire record (CapturedRequest) as
 * they become known. Kept small because the ring holds hundreds of them and each one is made on
 * the data path's side: flat fields; a head the fast path's tap read is kept only as a copy of
 * its bytes, and its target and header list are decoded from it when someone looks; body
 * previews are made only when a body comes; the capture is its own tap (no closures).
 */
export class Capture implements RingEntry, ExchangeTap, RawExchangeTap {
  cost: number;
  readonly startedAt = Date.now();
  /** performance.now() at the start, for durations that do not jump with the wall clock. */
  private readonly startedMono = performance.now();
  state: CaptureState = 'pending';
  status: number | undefined = undefined;
  ttfbMs: number | undefined = undefined;
  durationMs: number | undefined = undefined;
  error: string | undefined = undefined;
  /**
   * Headers as a list (given, or parsed once asked for), else the head the fast path's tap read,
   * kept as a copy of its bytes in the arena (off the JS heap): slab, offset, length, and where
   * its header lines start. Flat fields, not an object per head: the ring holds hundreds.
   */
  private reqHeaders: string[] | undefined;
  private reqSlab: Buffer | undefined = undefined;
  private reqOffset = 0;
  private reqLength = 0;
  private reqFrom = 0;
  private resHeaders: string[] | undefined = NO_HEADERS;
  private resSlab: Buffer | undefined = undefined;
  private resOffset = 0;
  private resLength = 0;
  private resFrom = 0;
  private reqBody: BodyPreview | undefined = undefined;
  private resBody: BodyPreview | undefined = undefined;
  /** The target: given, or decoded from the kept head (at reqOffset + urlFrom) once asked for. */
  private target: string | undefined;
  private urlFrom = 0;
  private urlTo = 0;

  /** `path` undefined: the target of `requestHeaders`, a head the tap read. */
  constructor(
    private readonly owner: CaptureOwner,
    readonly id: number,
    readonly route: string,
    readonly method: string,
    path: string | undefined,
    readonly host: string,
    readonly proto: 'http' | 'https',
    readonly clientAddress: string,
    readonly replayOf: number | undefined,
    requestHeaders: string[] | HttpHead,
  ) {
    this.target = path;
    if (Array.isArray(requestHeaders)) {
      this.reqHeaders = requestHeaders;
      this.cost = ENTRY_OVERHEAD_BYTES + headerBytes(requestHeaders) + (path?.length ?? 0);
    } else {
      const head = requestHeaders;
      this.reqSlab = sharedArena.copy(head.source, head.start, head.start + head.length);
      this.reqOffset = sharedArena.offset;
      this.reqLength = head.length;
      this.reqFrom = head.headersFrom;
      this.urlFrom = head.urlFrom;
      this.urlTo = head.urlTo;
      this.cost = ENTRY_OVERHEAD_BYTES + this.reqLength + (path?.length ?? head.urlTo - head.urlFrom);
    }
  }

  get path(): string {
    this.target ??= this.reqSlab!.toString('latin1', this.reqOffset + this.urlFrom, this.reqOffset + this.urlTo);
    return this.target;
  }

  /** Name/value pairs as received (parsed from the kept head the first time they are asked for). */
  get requestHeaders(): string[] {
    this.reqHeaders ??= keptHeaders(this.reqSlab!, this.reqOffset, this.reqLength, this.reqFrom);
    return this.reqHeaders;
  }

  get responseHeaders(): string[] {
    this.resHeaders ??= keptHeaders(this.resSlab!, this.resOffset, this.resLength, this.resFrom);
    return this.resHeaders;
  }

  /** The request body's first bytes (tap methods take the names requestBody/responseBody). */
  get requestPreview(): BodyPreview {
    return this.reqBody ?? NO_BODY;
  }

  get responsePreview(): BodyPreview {
    return this.resBody ?? NO_BODY;
  }

  /** Body bytes: chunk[start, end) (the whole chunk from a route's handler, a range from the tap). */
  requestBody(chunk: Buffer, start = 0, end = chunk.length): void {
    this.reqBody ??= new BodyPreview();
    const kept = this.reqBody.add(chunk, start, end);
    if (kept > 0) this.owner.charge(this, kept);
  }

  /** `headers` a list, or a head the tap read (parsed if asked for). */
  responseHead(status: number, headers: string[] | HttpHead): void {
    this.status = status;
    if (Array.isArray(headers)) {
      this.resHeaders = headers;
      this.owner.charge(this, headerBytes(headers));
    } else {
      this.resHeaders = undefined;
      this.resSlab = sharedArena.copy(headers.source, headers.start, headers.start + headers.length);
      this.resOffset = sharedArena.offset;
      this.resLength = headers.length;
      this.resFrom = headers.headersFrom;
      this.owner.charge(this, this.resLength);
    }
    this.ttfbMs = this.elapsedMs();
    this.state = 'streaming';
    this.owner.changed(this);
  }

  responseBody(chunk: Buffer, start = 0, end = chunk.length): void {
    this.resBody ??= new BodyPreview();
    const kept = this.resBody.add(chunk, start, end);
    if (kept > 0) this.owner.charge(this, kept);
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
