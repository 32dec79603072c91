import { Readable, Writable } from 'node:stream';
import type { ReplayEdit } from '../../../protocol/inspect';
import { headerMap, type HttpHandler } from '../serve/http-exchange';
import type { Capture, Inspector } from './inspector';

/** A replay whose origin has not finished answering by then fails with a clear error. */
export const REPLAY_TIMEOUT_MS = 30_000;

/** A replay that cannot be done as asked (unknown id, body cut short): the message says why. */
export class ReplayError extends Error {
  constructor(
    message: string,
    readonly reason: 'not-found' | 'invalid' | 'failed',
  ) {
    super(message);
  }
}

// Framing is the replay's own: the body may have been edited.
const FRAMING = new Set(['content-length', 'transfer-encoding']);

function replayHeaders(headers: string[], bodyLength: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) if (!FRAMING.has(headers[i].toLowerCase())) out.push(headers[i], headers[i + 1]);
  if (bodyLength > 0) out.push('Content-Length', String(bodyLength));
  return out;
}

/**
 * Sends a captured request again to its route's origin, through the agent's own handler for that
 * route (so the replay is captured like any request), optionally edited. Resolves with the
 * replay's capture once its answer is complete.
 */
export function replayRequest(inspector: Inspector, handlerFor: (route: string) => HttpHandler, id: number, edit: ReplayEdit = {}): Promise<Capture> {
  const original = inspector.get(id);
  if (!original) return Promise.reject(new ReplayError(`no captured request ${id} (it may have left the ring)`, 'not-found'));
  if (edit.body === undefined && original.requestPreview.truncated) {
    return Promise.reject(new ReplayError(`request ${id}'s body was cut at ${original.requestPreview.kept} bytes; replay it with an edited body`, 'invalid'));
  }
  const body = edit.body === undefined ? original.requestPreview.bytes() : Buffer.from(edit.body);
  const rawHeaders = replayHeaders(edit.headers ?? original.requestHeaders, body.length);
  return new Promise<Capture>((resolve, reject) => {
    let capture: Capture | undefined;
    const timer = setTimeout(() => {
      inspector.off('updated', onUpdate);
      reject(new ReplayError(`the origin did not finish answering the replay of request ${id} within ${REPLAY_TIMEOUT_MS / 1000} s`, 'failed'));
    }, REPLAY_TIMEOUT_MS);
    const onUpdate = (c: Capture) => {
      if (c !== capture || c.state === 'pending' || c.state === 'streaming') return;
      clearTimeout(timer);
      inspector.off('updated', onUpdate);
      resolve(c);
    };
    inspector.on('updated', onUpdate);
    // The answer's bytes are kept by the capture; the sink only lets them flow.
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    let headersSent = false;
    capture = inspector.asReplayOf(id, () =>
      handlerFor(original.route)(
        {
          method: edit.method ?? original.method,
          url: edit.path ?? original.path,
          rawHeaders,
          headers: headerMap(rawHeaders),
          host: original.route,
          proto: original.proto,
          remoteAddress: original.clientAddress,
          remotePort: 0,
          body: Readable.from(body.length > 0 ? [body] : []),
          hasBody: body.length > 0,
        },
        {
          writeHead: () => void (headersSent = true),
          get headersSent() {
            return headersSent;
          },
          body: sink,
          destroy: (err) => sink.destroy(err),
        },
      ),
    );
    if (!capture) {
      clearTimeout(timer);
      inspector.off('updated', onUpdate);
      reject(new ReplayError(`the route ${original.route} is not being inspected`, 'failed'));
    } else {
      onUpdate(capture); // it may have ended already (an answer refused at once)
    }
  });
}
