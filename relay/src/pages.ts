import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { htmlPage, rawHtmlResponse } from '../../common/html-page';
import { serializeResponseHead } from '../../common/http-headers';
import type { Admission } from './request-admission';
import { lingerThenClose, MAX_LINGER_MS, type LingerEnd } from './visitor-linger';

type Refusal = Exclude<Admission, { kind: 'relay' | 'admitted' }>;

/** Sends a short HTML page; used for every error the relay itself answers. */
export function sendPage(res: ServerResponse, status: number, title: string, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = htmlPage(title, message);
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

/** Seconds a client address over its share of a tunnel is asked to wait (Retry-After). */
export const CROWDED_RETRY_AFTER_S = 5;

const TUNNEL_LOST_TITLE = 'Tunnel connection lost';
const BODY_TIMEOUT_TITLE = 'Request body too slow';
const bodyTimeoutMessage = (host: string, timeoutMs: number): string =>
  `The request body for ${host} sent nothing for ${timeoutMs / 1000} s; the relay closed the request.`;
const tunnelLostMessage = (host: string): string =>
  `The tunnel for ${host} lost this request before an answer came: its agent, or the service behind it, went away.`;

/** The same pages as raw HTTP/1.1 bytes, for the fast path (it writes to the visitor's socket itself). */
export const RawPages = {
  tunnelLost: (host: string, method: string): string => rawHtmlResponse(502, 'Bad Gateway', TUNNEL_LOST_TITLE, tunnelLostMessage(host), method),
  bodyTimeout: (host: string, timeoutMs: number): string =>
    rawHtmlResponse(408, 'Request Timeout', BODY_TIMEOUT_TITLE, bodyTimeoutMessage(host, timeoutMs)),
  unsolicitedSwitch: (host: string, method: string): string =>
    rawHtmlResponse(502, 'Bad Gateway', 'Bad answer from the origin', `The service behind ${host} switched protocols (101) for a request that asked for no upgrade.`, method),
  badResponse: (host: string, method: string, reason: string): string =>
    rawHtmlResponse(502, 'Bad Gateway', 'Bad answer from the origin', `The service behind ${host} sent a response the relay does not pass on (${reason}).`, method),
};

export const Pages = {
  unknownHost: (res: ServerResponse, host: string) =>
    sendPage(res, 404, 'Unknown host', `No tunnel is registered for ${host || 'this address'} on this relay.`),
  tunnelOffline: (res: ServerResponse, host: string) =>
    sendPage(res, 502, 'Tunnel offline', `The agent for ${host} is not connected right now. Start it with \`portway start\` and try again.`),
  tunnelLost: (res: ServerResponse, host: string) => sendPage(res, 502, TUNNEL_LOST_TITLE, tunnelLostMessage(host)),
  bodyTimeout: (res: ServerResponse, host: string, timeoutMs: number) => sendPage(res, 408, BODY_TIMEOUT_TITLE, bodyTimeoutMessage(host, timeoutMs)),
  badRequest: (res: ServerResponse, why: string) => sendPage(res, 400, 'Bad request', why),
  notImplemented: (res: ServerResponse, why: string) => sendPage(res, 501, 'Not implemented', why),
  tunnelBusy: (res: ServerResponse, host: string) =>
    sendPage(res, 503, 'Tunnel busy', `The tunnel for ${host} is carrying as many requests as it may at once; try again shortly.`),
  /** One client address holds its share of the tunnel's streams: it waits, the tunnel's other visitors do not. */
  addressCrowded: (res: ServerResponse, host: string, share: number) =>
    sendPage(
      res,
      429,
      'Too many requests from your address',
      `Your address holds ${share} of the requests the tunnel for ${host} may carry at once, its most; finish some (or close idle connections) and try again shortly.`,
      { 'retry-after': String(CROWDED_RETRY_AFTER_S) },
    ),
  relayDraining: (res: ServerResponse) =>
    sendPage(res, 503, 'Relay restarting', 'This relay is shutting down; try again in a few seconds.'),
  forbidden: (res: ServerResponse, host: string) =>
    sendPage(res, 403, 'Forbidden', `The firewall of ${host} does not admit your address.`),
  /** The page a full request gets for each refusal of admit(). */
  refusal(res: ServerResponse, refusal: Refusal, host: string): void {
    switch (refusal.kind) {
      case 'unknown':
      case 'unassigned':
        return Pages.unknownHost(res, host);
      case 'offline':
        return Pages.tunnelOffline(res, refusal.hostname);
      case 'forbidden':
        return Pages.forbidden(res, host);
      case 'busy':
        return Pages.tunnelBusy(res, host);
      case 'crowded':
        return Pages.addressCrowded(res, host, refusal.session.maxStreamsPerAddress);
    }
  },
};

/** The status line an upgrade gets for each refusal of admit() (no page: a bare status line). */
export const UPGRADE_REFUSALS: Record<Exclude<Admission['kind'], 'admitted'>, [number, string]> = {
  relay: [404, 'Not Found'],
  unknown: [404, 'Not Found'],
  unassigned: [404, 'Tunnel Offline'],
  offline: [502, 'Tunnel Offline'],
  forbidden: [403, 'Forbidden'],
  busy: [503, 'Tunnel Busy'],
  crowded: [429, 'Too Many Requests'],
};

/** Answers an upgrade the relay will not forward with a bare status line, then closes within `lingerMs`. */
export function refuseUpgrade(socket: Duplex, status: number, message: string, lingerMs = MAX_LINGER_MS, onReleased?: (how: LingerEnd) => void): void {
  const wait = status === 429 ? ['Retry-After', String(CROWDED_RETRY_AFTER_S)] : [];
  socket.end(serializeResponseHead(status, message, ['Content-Length', '0', 'Connection', 'close', ...wait]));
  lingerThenClose(socket, lingerMs, onReleased);
}
