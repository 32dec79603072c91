import { EventEmitter } from 'node:events';
import type { CapturedRequest } from '../../../protocol/inspect';
import type { RequestSummary } from '../../../protocol/rpc';
import type { HttpRawOpen } from '../../../protocol/stream-head';
import type { ExchangeObserver, ExchangeTap, ObservedRequest } from '../serve/exchange-observer';
import { showBody } from './body-view';
import { Capture, type CaptureOwner } from './capture';
import { CaptureRing, DEFAULT_BOUNDS, type RingBounds } from './capture-ring';
import { hostOf, type HttpHead } from './http-head';

export { Capture };

export interface InspectorEvents {
  /** A new request arrived (its head). */
  captured: [capture: Capture];
  /** A request got its answer's head, or ended. */
  updated: [capture: Capture];
}

/** The request inspector: captures each exchange the route table reports into a bounded ring. */
export class Inspector extends EventEmitter<InspectorEvents> implements ExchangeObserver, CaptureOwner {
  private readonly ring: CaptureRing<Capture>;
  private nextId = 1;
  /** Set while a replay's request is handed to its route (begin() runs synchronously in it). */
  private replaying: number | undefined;

  constructor(bounds: RingBounds = DEFAULT_BOUNDS) {
    super();
    this.ring = new CaptureRing(bounds);
  }

  begin(req: ObservedRequest): ExchangeTap {
    return this.track(new Capture(this, this.nextId++, req.host, req.method, req.url, req.headers.host ?? req.host, req.proto, req.remoteAddress, this.replaying, req.rawHeaders));
  }

  /** begin() for the fast path's tap: the head's header lines are parsed only if someone looks. */
  beginRaw(head: HttpHead, open: HttpRawOpen): Capture {
    return this.track(new Capture(this, this.nextId++, open.host, head.method, undefined, hostOf(head, open.host), open.proto, open.remoteAddress, this.replaying, head));
  }

  /** CaptureOwner: a capture holds `more` bytes more. */
  charge(capture: Capture, more: number): void {
    this.ring.charge(capture, more);
  }

  /** CaptureOwner: a capture got its answer's head, or ended. */
  changed(capture: Capture): void {
    // Nothing is built for listeners nobody registered (the CLI's page polls).
    if (this.listenerCount('updated') > 0) this.emit('updated', capture);
  }

  private track(capture: Capture): Capture {
    this.ring.add(capture);
    if (this.listenerCount('captured') > 0) this.emit('captured', capture);
    return capture;
  }

  /**
   * Runs `handOver`, which hands a replayed request to its route, with the capture that begins in
   * it marked as a replay of `id`; returns that capture (undefined if no route observed it).
   */
  asReplayOf(id: number, handOver: () => void): Capture | undefined {
    this.replaying = id;
    const before = this.nextId;
    try {
      handOver();
    } finally {
      this.replaying = undefined;
    }
    return this.nextId > before ? this.ring.get(before) : undefined;
  }

  get(id: number): Capture | undefined {
    return this.ring.get(id);
  }

  /** Newest first. */
  list(): Capture[] {
    return this.ring.newestFirst();
  }

  resize(bounds: RingBounds): void {
    this.ring.resize(bounds);
  }

  clear(): void {
    this.ring.clear();
  }

  get heldBytes(): number {
    return this.ring.heldBytes;
  }
}

/** A capture without its bodies (lists, the Connections view): nothing is decoded. */
export function toRequestSummary(c: Capture): RequestSummary {
  return {
    id: c.id,
    route: c.route,
    method: c.method,
    path: c.path,
    host: c.host,
    proto: c.proto,
    clientAddress: c.clientAddress,
    startedAt: c.startedAt,
    ttfbMs: c.ttfbMs,
    durationMs: c.durationMs,
    status: c.status,
    state: c.state,
    error: c.error,
    requestHeaders: c.requestHeaders,
    responseHeaders: c.responseHeaders,
    bytesIn: c.requestPreview.size,
    bytesOut: c.responsePreview.size,
    replayOf: c.replayOf,
    requestBodyTruncated: c.requestPreview.truncated,
  };
}

/** A capture as the inspector's clients see it (protocol/inspect.ts), bodies decoded for showing. */
export function toCapturedRequest(c: Capture): CapturedRequest {
  return {
    ...toRequestSummary(c),
    requestBody: showBody(c.requestPreview.bytes(), c.requestPreview.size, c.requestPreview.truncated, c.requestHeaders),
    responseBody: showBody(c.responsePreview.bytes(), c.responsePreview.size, c.responsePreview.truncated, c.responseHeaders),
  };
}
