import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { serializeResponseHead, withoutHopByHop } from '../../common/http-headers';
import { resetConnection } from '../../common/net/reset-connection';
import { readHead } from '../../mux/read-head';
import { encodeHead, validateResponseHead, type HttpOpen } from '../../protocol/stream-head';
import { counters } from './admin/counters';
import type { AgentSession } from './agent-session';
import { watchBodyProgress } from './body-progress';
import { forwardedRequestHeaders } from './forwarded-headers';
import { Pages } from './pages';
import { closeWhenIdle, lingerThenClose, MAX_LINGER_MS, type LingerEnd } from './visitor-linger';

export interface ForwardContext {
  session: AgentSession;
  /** Normalised host the request was routed by. */
  host: string;
  clientAddress: string;
  /** X-Forwarded-For for the agent (a trusted proxy's chain plus it); clientAddress when absent. */
  forwardedFor?: string;
  proto: 'http' | 'https';
  /** A request body that sends nothing for this long is cut (408 if no answer started). */
  bodyTimeoutMs: number;
  /** After an upgrade's last answer, or a half-close of its raw bytes, the connection ends within this. */
  idleTimeoutMs: number;
  /** Told when an upgrade's connection closes after its last answer (debug logging). */
  released?: (how: LingerEnd) => void;
}

function openHead(req: IncomingMessage, ctx: ForwardContext, upgrade: boolean): HttpOpen {
  return {
    kind: 'http',
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    rawHeaders: forwardedRequestHeaders(req, ctx.clientAddress, ctx.proto, upgrade, ctx.forwardedFor),
    host: ctx.host,
    proto: ctx.proto,
    remoteAddress: ctx.clientAddress,
    remotePort: req.socket.remotePort ?? 0,
    upgrade,
    hasBody: !upgrade && hasRequestBody(req),
  };
}

/** Whether a body follows the head: chunked, or a non-zero Content-Length. */
function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Sends one public request over a new stream and streams the agent's answer back, unbuffered. */
export function forwardRequest(req: IncomingMessage, res: ServerResponse, ctx: ForwardContext): void {
  const stream = ctx.session.openStream(ctx.clientAddress);
  stream.on('error', () => {
    // Part of the answer is out: a reset, not a FIN, so no cut body can look complete.
    if (res.headersSent && res.socket) resetConnection(res.socket);
    else if (res.headersSent) res.destroy();
  });
  const open = openHead(req, ctx, false);
  let bodyTimedOut = false;
  if (open.hasBody) {
    stream.write(encodeHead(open));
    req.pipe(stream);
    watchBodyProgress(req, ctx.bodyTimeoutMs, () => {
      bodyTimedOut = true;
      counters.bodyTimeouts++;
      stream.destroy();
      if (res.headersSent) return res.socket ? resetConnection(res.socket) : res.destroy();
      res.shouldKeepAlive = false;
      Pages.bodyTimeout(res, ctx.host, ctx.bodyTimeoutMs);
    });
  } else {
    stream.end(encodeHead(open)); // head and FIN in one batch
  }
  // The client went away before the answer finished: abort the stream so the agent stops too.
  res.on('close', () => {
    if (!res.writableFinished) stream.destroy();
  });
  readHead(stream, (err, json) => {
    if (bodyTimedOut) return; // answered already (408)
    if (err) {
      // An upload cut short: Node closes the connection after the page instead of waiting for the rest.
      if (!req.complete) res.shouldKeepAlive = false;
      return Pages.tunnelLost(res, ctx.host);
    }
    let head;
    try {
      head = validateResponseHead(json);
      if (head.status < 200) throw new Error(`unexpected status ${head.status} for a plain request`);
    } catch {
      stream.destroy();
      return Pages.tunnelLost(res, ctx.host);
    }
    res.writeHead(head.status, head.statusMessage ?? '', withoutHopByHop(head.rawHeaders));
    stream.pipe(res);
    // Headers go out with the first body bytes (one write). The body frames of a small
    // response arrive in the same batch as its head, so by the next turn they are written;
    // a response whose body has not started (SSE, long poll) gets its headers flushed alone.
    setImmediate(() => {
      if (res.writableLength === 0 && !res.writableEnded && res.socket && !(res as unknown as { _headerSent: boolean })._headerSent) res.flushHeaders();
    });
  });
}

/** Forwards an Upgrade request (WebSocket); after a 101, bytes flow raw both ways. */
export function forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: ForwardContext): void {
  const stream = ctx.session.openStream(ctx.clientAddress);
  const closeBoth = () => {
    stream.destroy();
    socket.destroy();
  };
  stream.on('error', () => {
    stream.destroy();
    resetConnection(socket); // a lost conversation is cut, not ended
  });
  socket.on('error', closeBoth);
  socket.on('close', () => stream.destroy());
  stream.write(encodeHead(openHead(req, ctx, true)));
  if (head.length > 0) stream.write(head);
  const linger = Math.min(MAX_LINGER_MS, ctx.idleTimeoutMs);
  readHead(stream, (err, json) => {
    if (err) {
      socket.end(serializeResponseHead(502, 'Bad Gateway', ['Content-Length', '0', 'Connection', 'close']));
      return lingerThenClose(socket, linger, ctx.released);
    }
    let answer;
    try {
      answer = validateResponseHead(json);
    } catch {
      return closeBoth();
    }
    if (answer.status === 101) {
      socket.write(serializeResponseHead(101, answer.statusMessage || 'Switching Protocols', withoutHopByHop(answer.rawHeaders, true)));
      stream.pipe(socket);
      socket.pipe(stream);
      // Raw bytes have no idle limit, but once the agent's side ended the visitor's may not idle on.
      stream.once('end', () => closeWhenIdle(socket, ctx.idleTimeoutMs));
    } else {
      // The origin declined the upgrade: relay its answer and close (the body ends with the connection).
      const headers = withoutHopByHop(answer.rawHeaders).concat('Connection', 'close');
      socket.write(serializeResponseHead(answer.status, answer.statusMessage || '', headers));
      stream.pipe(socket);
      stream.once('end', () => lingerThenClose(socket, linger, ctx.released));
    }
  });
}
