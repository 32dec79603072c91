import { rawHtmlResponse } from '../../../common/html-page';
import { resetConnection } from '../../../common/net/reset-connection';
import { connectFramed } from '../../../mux/framed-reader';
import type { MuxStream } from '../../../mux/stream';
import type { HttpRawOpen } from '../../../protocol/stream-head';
import type { HttpRouteConfig } from '../config/schema';
import { formatHostPort } from '../../../common/net/host-port';

/** Sees the bytes of one fast-path connection both ways (the request inspector's tap). */
export interface RawBytesTap {
  fromVisitor(chunk: Buffer): void;
  fromOrigin(chunk: Buffer): void;
  /** The connection ended; `error` when it was cut. */
  close(error?: string): void;
}

/**
 * The agent's half of the fast path: one visitor connection's raw HTTP bytes (heads
 * already checked and rewritten by the relay) piped to one connection to the route's
 * destination, and its answers piped back untouched. `tapFor` (the inspector, while on) may
 * watch the bytes on their way; without it nothing is added to the path.
 */
export function createRawHttpProxy(
  routeFor: (host: string) => HttpRouteConfig | undefined,
  tapFor: (open: HttpRawOpen) => RawBytesTap | undefined = () => undefined,
): (open: HttpRawOpen, stream: MuxStream) => void {
  return (open, stream) => {
    const route = routeFor(open.host);
    if (!route?.destination || route.http === undefined || route.webroot) {
      stream.end(rawHtmlResponse(502, 'Bad Gateway', 'No route', `This Portway agent has no proxy route for ${open.host} any more.`));
      return;
    }
    const { destination, http: port } = route;
    let connected = false;
    const tap = tapFor(open);
    // The origin's answers are read straight into frames (no copy of bulk bodies, big reads).
    const origin = connectFramed(stream, { host: destination, port, noDelay: true }, tap && ((bytes) => tap.fromOrigin(bytes)));
    origin.on('connect', () => {
      connected = true;
      stream.pipe(origin);
      // After pipe(): both listeners get every chunk (before it, the pipe would miss some).
      if (tap) stream.on('data', (chunk: Buffer) => tap.fromVisitor(chunk));
    });
    if (tap) origin.once('close', (hadError) => tap.close(hadError ? 'connection reset' : undefined));
    origin.on('error', (err: NodeJS.ErrnoException) => {
      if (connected) {
        stream.destroy(); // the origin's reset goes on as the stream's reset (RST), never an end
        return;
      }
      const why = err.code === 'ECONNREFUSED' ? 'nothing is listening there' : err.message;
      stream.end(rawHtmlResponse(502, 'Bad Gateway', 'Origin unreachable', `The Portway agent could not reach ${formatHostPort(destination, port)} (${why}). Is your local service running?`));
      stream.resume(); // drain what the visitor still sends
    });
    stream.on('error', () => resetConnection(origin));
    stream.on('close', () => origin.destroy());
    origin.on('close', () => {
      // Only a clean end of the origin's answer ends the stream; any other close is a cut (RST).
      if (!origin.readableEnded) stream.destroy();
      else if (!stream.writableEnded) stream.end();
      // Nothing reads the visitor side any more: drain it so the relay's FIN completes the stream.
      stream.resume();
    });
  };
}
