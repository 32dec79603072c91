import { EventEmitter } from 'node:events';
import type { CapturedRequest } from '../../../protocol/inspect';
import type { RequestSummary } from '../../../protocol/rpc';
import type { ExchangeObserver, ExchangeTap, ObservedRequest } from '../serve/exchange-observer';
import { BodyPreview } from './body-preview';
import { showBody } from './body-view';
import { CaptureRing, DEFAULT_BOUNDS, type RingBounds } from './capture-ring';

/**
 * A request being (or done being) captured: the wire record's facts as they become known, with
 * raw body previews (decoded only when shown) and the bookkeeping the ring needs.
 */
export interface Capture extends Omit<CapturedRequest, 'id' | 'bytesIn' | 'bytesOut' | 'requestBody' | 'responseBody' | 'requestBodyTruncated'> {
  readonly id: number;
  cost: number;
  /** process.hrtime-based start, for durations that do not jump with the wall clock. */
  readonly startedHr: bigint;
  requestBody: BodyPreview;
  responseBody: BodyPreview;
}

export interface InspectorEvents {
  /** A new request arrived (its head). */
  captured: [capture: Capture];
  /** A request got its answer's head, or ended. */
  updated: [capture: Capture];
}

/** Fixed overhead counted per request beside its headers and bodies. */
const ENTRY_OVERHEAD_BYTES = 512;

function headerBytes(rawHeaders: string[]): number {
  let n = 0;
  for (const s of rawHeaders) n += s.length;
  return n;
}

function elapsedMs(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e6;
}

/** The request inspector: captures each exchange the route table reports into a bounded ring. */
export class Inspector extends EventEmitter<InspectorEvents> implements ExchangeObserver {
  private readonly ring: CaptureRing<Capture>;
  private nextId = 1;
  /** Set while a replay's request is handed to its route (begin() runs synchronously in it). */
  private replaying: number | undefined;

  constructor(bounds: RingBounds = DEFAULT_BOUNDS) {
    super();
    this.ring = new CaptureRing(bounds);
  }

  begin(req: ObservedRequest): ExchangeTap {
    const capture: Capture = {
      id: this.nextId++,
      cost: ENTRY_OVERHEAD_BYTES + headerBytes(req.rawHeaders) + req.url.length,
      route: req.host,
      method: req.method,
      path: req.url,
      host: req.headers.host ?? req.host,
      proto: req.proto,
      clientAddress: req.remoteAddress,
      startedAt: Date.now(),
      startedHr: process.hrtime.bigint(),
      state: 'pending',
      requestHeaders: req.rawHeaders,
      responseHeaders: [],
      requestBody: new BodyPreview(),
      responseBody: new BodyPreview(),
      replayOf: this.replaying,
    };
    this.ring.add(capture);
    this.emit('captured', capture);
    return {
      requestBody: (chunk) => this.ring.charge(capture, capture.requestBody.add(chunk)),
      responseHead: (status, rawHeaders) => {
        capture.status = status;
        capture.responseHeaders = rawHeaders;
        capture.ttfbMs = elapsedMs(capture.startedHr);
        capture.state = 'streaming';
        this.ring.charge(capture, headerBytes(rawHeaders));
        this.emit('updated', capture);
      },
      responseBody: (chunk) => this.ring.charge(capture, capture.responseBody.add(chunk)),
      end: (error) => {
        capture.durationMs = elapsedMs(capture.startedHr);
        capture.state = error ? 'reset' : 'complete';
        capture.error = error;
        this.emit('updated', capture);
      },
    };
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
    bytesIn: c.requestBody.size,
    bytesOut: c.responseBody.size,
    replayOf: c.replayOf,
    requestBodyTruncated: c.requestBody.truncated,
  };
}

/** A capture as the inspector's clients see it (protocol/inspect.ts), bodies decoded for showing. */
export function toCapturedRequest(c: Capture): CapturedRequest {
  return {
    ...toRequestSummary(c),
    requestBody: showBody(c.requestBody.bytes(), c.requestBody.size, c.requestBody.truncated, c.requestHeaders),
    responseBody: showBody(c.responseBody.bytes(), c.responseBody.size, c.responseBody.truncated, c.responseHeaders),
  };
}
