import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { serializeResponseHead, withoutHopByHop } from '../../common/http-headers';
import { readHead } from '../../mux/read-head';
import { encodeHead, validateResponseHead, type HttpOpen } from '../../protocol/stream-head';
import type { AgentSession } from './agent-session';
import { forwardedRequestHeaders } from './forwarded-headers';
import { Pages } from './pages';

export interface ForwardContext {
  session: AgentSession;
  /** Normalised host the request was routed by. */
  host: string;
  clientAddress: string;
  proto: 'http' | 'https';
}

function openHead(req: IncomingMessage, ctx: ForwardContext, upgrade: boolean): HttpOpen {
  return {
    kind: 'http',
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    rawHeaders: forwardedRequestHeaders(req, ctx.clientAddress, ctx.proto, upgrade),
    host: ctx.host,
    proto: ctx.proto,
    remoteAddress: ctx.clientAddress,
    remotePort: req.socket.remotePort ?? 0,
    upgrade,
  };
}

/** Sends one public request over a new stream and streams the agent's answer back, unbuffered. */
export function forwardRequest(req: IncomingMessage, res: ServerResponse, ctx: ForwardContext): void {
  const stream = ctx.session.openStream();
  stream.on('error', () => {
    if (res.headersSent) res.destroy();
  });
  stream.write(encodeHead(openHead(req, ctx, false)));
  req.pipe(stream);
  // The client went away before the answer finished: abort the stream so the agent stops too.
  res.on('close', () => {
    if (!res.writableFinished) stream.destroy();
  });
  readHead(stream).then(
    (json) => {
      const head = validateResponseHead(json);
      if (head.status < 200) throw new Error(`unexpected status ${head.status} for a plain request`);
      res.writeHead(head.status, head.statusMessage ?? '', withoutHopByHop(head.rawHeaders));
      // Headers go out with the first body bytes (one write); only a response whose body
      // has not started yet (SSE, long poll) gets its headers flushed on their own.
      if (stream.readableLength === 0 && !stream.readableEnded) res.flushHeaders();
      stream.pipe(res);
    },
    () => Pages.tunnelLost(res, ctx.host),
  ).catch(() => {
    stream.destroy();
    Pages.tunnelLost(res, ctx.host);
  });
}

/** Forwards an Upgrade request (WebSocket); after a 101, bytes flow raw both ways. */
export function forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: ForwardContext): void {
  const stream = ctx.session.openStream();
  const closeBoth = () => {
    stream.destroy();
    socket.destroy();
  };
  stream.on('error', closeBoth);
  socket.on('error', closeBoth);
  socket.on('close', () => stream.destroy());
  stream.write(encodeHead(openHead(req, ctx, true)));
  if (head.length > 0) stream.write(head);
  readHead(stream).then(
    (json) => {
      const answer = validateResponseHead(json);
      if (answer.status === 101) {
        socket.write(serializeResponseHead(101, answer.statusMessage || 'Switching Protocols', withoutHopByHop(answer.rawHeaders, true)));
        stream.pipe(socket);
        socket.pipe(stream);
      } else {
        // The origin declined the upgrade: relay its answer and close (the body ends with the connection).
        const headers = withoutHopByHop(answer.rawHeaders).concat('Connection', 'close');
        socket.write(serializeResponseHead(answer.status, answer.statusMessage || '', headers));
        stream.pipe(socket);
      }
    },
    () => {
      socket.end(serializeResponseHead(502, 'Bad Gateway', ['Content-Length', '0', 'Connection', 'close']));
    },
  ).catch(closeBoth);
}
