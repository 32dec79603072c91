/**
 * The request inspector's records, declared once: the agent's capture ring produces them, and the
 * same JSON reaches the VS Code webview (over JSON-RPC, protocol/rpc.ts) and the `--inspect` local
 * page (its JSON API, paths below). This module imports nothing.
 */

/** Bytes of each body kept (request and response): the rest is counted, not stored. */
export const BODY_PREVIEW_BYTES = 64 * 1024;
/** Default bounds of the capture ring: the newest requests are kept, by count and by memory. */
export const DEFAULT_MAX_REQUESTS = 500;
export const DEFAULT_MAX_MEMORY_MIB = 32;
/** `portway http PORT --inspect` with no address. */
export const DEFAULT_INSPECT_ADDRESS = '127.0.0.1:4040';

/** The local page's JSON API (`portway http PORT --inspect`). */
export const InspectApi = {
  /** GET: every captured request, newest first (CapturedRequest[]). */
  requests: '/api/requests',
  /** GET: one request (CapturedRequest); POST …/replay: replay it (ReplayEdit body, CapturedRequest answer). */
  request: (id: number) => `/api/requests/${id}`,
  replay: (id: number) => `/api/requests/${id}/replay`,
} as const;

/**
 * pending: the answer has not started. streaming: the head came, the body is flowing.
 * complete: the answer was sent whole. reset: the visitor or the origin went away mid-exchange.
 */
export type CaptureState = 'pending' | 'streaming' | 'complete' | 'reset';

/** A body as shown: decoded (gzip/br/deflate) when it was encoded, and classified. */
export interface ShownBody {
  /** Bytes that went over the wire (the whole body, not only the preview). */
  size: number;
  /** True when the body was longer than BODY_PREVIEW_BYTES: what is shown is its beginning. */
  truncated: boolean;
  /** The Content-Encoding it was decoded from, if any. */
  decodedFrom?: string;
  /** Why decoding failed (the raw bytes are shown instead). */
  decodeError?: string;
  contentType?: string;
  /** json: `text` is pretty-printed. image: `base64` holds the bytes. binary: `hex` holds the first bytes. */
  kind: 'empty' | 'text' | 'json' | 'image' | 'binary';
  text?: string;
  base64?: string;
  hex?: string;
}

/** One request through the tunnel, as the agent saw it. */
export interface CapturedRequest {
  /** Increasing within one agent run. */
  id: number;
  /** The route's domain. */
  route: string;
  method: string;
  /** The request target, e.g. "/api/items?page=2". */
  path: string;
  host: string;
  proto: 'http' | 'https';
  clientAddress: string;
  /** Epoch milliseconds when the request head arrived. */
  startedAt: number;
  /** Milliseconds from the request head to the response head. */
  ttfbMs?: number;
  /** Milliseconds from the request head to the end of the exchange. */
  durationMs?: number;
  status?: number;
  state: CaptureState;
  /** What went wrong, for state "reset". */
  error?: string;
  /** Name/value pairs, as received. */
  requestHeaders: string[];
  responseHeaders: string[];
  /** Body bytes from the visitor, and to the visitor. */
  bytesIn: number;
  bytesOut: number;
  requestBody: ShownBody;
  responseBody: ShownBody;
  /** Set on a replay: the id of the request it replayed. */
  replayOf?: number;
  /** True when the request body was cut at BODY_PREVIEW_BYTES, so a replay cannot send it unchanged. */
  requestBodyTruncated: boolean;
}

/** What a replay may change; anything left out is sent as captured. */
export interface ReplayEdit {
  method?: string;
  path?: string;
  /** Name/value pairs replacing the captured headers. */
  headers?: string[];
  /** The body, as UTF-8 text, replacing the captured one. */
  body?: string;
}

/** Checks a ReplayEdit that came from outside (the local page's POST, the webview). */
export function validateReplayEdit(value: unknown): ReplayEdit {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError('a replay edit must be a JSON object');
  const o = value as Record<string, unknown>;
  const edit: ReplayEdit = {};
  if (o.method !== undefined) {
    if (typeof o.method !== 'string' || !/^[A-Za-z]{1,20}$/.test(o.method)) throw new TypeError('method must be letters only, e.g. "POST"');
    edit.method = o.method.toUpperCase();
  }
  if (o.path !== undefined) {
    if (typeof o.path !== 'string' || !o.path.startsWith('/') || /[\s]/.test(o.path)) throw new TypeError('path must start with "/" and contain no spaces');
    edit.path = o.path;
  }
  if (o.headers !== undefined) {
    const h = o.headers;
    if (!Array.isArray(h) || h.length % 2 !== 0 || !h.every((s) => typeof s === 'string' && !/[\r\n]/.test(s))) {
      throw new TypeError('headers must be an array of name, value strings without line breaks');
    }
    edit.headers = h as string[];
  }
  if (o.body !== undefined) {
    if (typeof o.body !== 'string') throw new TypeError('body must be a string');
    edit.body = o.body;
  }
  return edit;
}
