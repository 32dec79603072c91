import type { Writable } from 'node:stream';
import type { AgentRequest, AgentResponse, HttpHandler } from './http-exchange';

/** What an observer sees of one request/response exchange, in order. Chunks are not copied. */
export interface ExchangeTap {
  requestBody(chunk: Buffer): void;
  responseHead(status: number, rawHeaders: string[]): void;
  responseBody(chunk: Buffer): void;
  /** Once per exchange; `error` when it did not complete (reset, aborted). */
  end(error?: string): void;
}

/** What an observer is told of a request when it begins: its head and where it came from. */
export type ObservedRequest = Pick<AgentRequest, 'method' | 'url' | 'rawHeaders' | 'headers' | 'host' | 'proto' | 'remoteAddress' | 'remotePort'>;

/** Watches the HTTP exchanges of every route (the request inspector). */
export interface ExchangeObserver {
  begin(req: ObservedRequest): ExchangeTap;
}

function bytesOf(chunk: unknown): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
}

/** Reports the body written to `body` (not what `head` writes itself) to `onChunk`. */
function tapWrites(body: Writable, inHead: () => boolean, onChunk: (chunk: Buffer) => void): void {
  const write = body.write;
  const end = body.end;
  body.write = function (this: Writable, chunk: unknown, ...rest: unknown[]) {
    if (!inHead()) onChunk(bytesOf(chunk));
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Writable['write'];
  body.end = function (this: Writable, chunk?: unknown, ...rest: unknown[]) {
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') onChunk(bytesOf(chunk));
    return (end as (...args: unknown[]) => Writable).call(this, chunk, ...rest);
  } as Writable['end'];
}

/**
 * The handler with each exchange reported to the observer. Only used while an observer is
 * attached (RouteTable.observe): without one, requests go to the handler untouched.
 */
export function observeExchanges(handler: HttpHandler, observer: ExchangeObserver): HttpHandler {
  return (req, res) => {
    const tap = observer.begin(req);
    let ended = false;
    const end = (error?: string) => {
      if (ended) return;
      ended = true;
      tap.end(error);
    };
    // While the exchange writes the response head itself, those bytes are not body.
    let writingHead = false;
    const inHead = <T>(fn: () => T): T => {
      writingHead = true;
      try {
        return fn();
      } finally {
        writingHead = false;
      }
    };
    const watched: AgentResponse = {
      writeHead(status, rawHeaders, statusMessage) {
        tap.responseHead(status, rawHeaders);
        inHead(() => res.writeHead(status, rawHeaders, statusMessage));
      },
      get headersSent() {
        return res.headersSent;
      },
      body: res.body,
      destroy(err) {
        end(err?.message ?? 'aborted');
        res.destroy(err);
      },
    };
    if (res.switchProtocols) {
      watched.switchProtocols = (rawHeaders, statusMessage) => {
        tap.responseHead(101, rawHeaders);
        return inHead(() => res.switchProtocols!(rawHeaders, statusMessage));
      };
    }
    tapWrites(res.body, () => writingHead, (chunk) => tap.responseBody(chunk));
    res.body.once('finish', () => end());
    res.body.once('close', () => end(res.body.writableFinished ? undefined : 'connection reset'));
    handler(req, watched);
    // After the handler: it has piped the body already, so this listener takes nothing from it.
    if (req.hasBody !== false && !res.switchProtocols) req.body.on('data', (chunk: Buffer) => tap.requestBody(chunk));
  };
}
