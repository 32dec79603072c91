import type { MuxStream } from '../../../mux/stream';
import { readHead } from '../../../mux/read-head';
import { validateStreamOpen, type HttpRawOpen, type StreamOpen, type TcpOpen, type TlsOpen } from '../../../protocol/stream-head';
import type { RouteTable } from './route-table';
import { exchangeFromStream } from './stream-exchange';

/** Handlers for raw streams (TCP ports, TLS by SNI); each feature provides its own. */
export interface RawStreamHandlers {
  httpRaw?(open: HttpRawOpen, stream: MuxStream): void;
  tcp?(open: TcpOpen, stream: MuxStream): void;
  tls?(open: TlsOpen, stream: MuxStream): void;
}

/** The route a stream came in for: HTTP (plain, fast path or TLS) by domain, a TCP port by number. */
export type StreamRoute = { kind: 'http'; domain: string } | { kind: 'tcp'; port: number };

/** A stream whose head was read: the stream itself (its live byte counters) and what it is for. */
export interface StreamArrival {
  stream: MuxStream;
  route: StreamRoute;
  remoteAddress: string;
}

export interface ConnectionClose {
  id: number;
  bytesIn: number;
  bytesOut: number;
}

export interface StreamEvents {
  /** Called when a stream opens and closes, for live connection views. */
  onOpen?(arrival: StreamArrival): void;
  onClose?(close: ConnectionClose): void;
  log?(line: string): void;
}

function routeOf(open: StreamOpen): StreamRoute {
  switch (open.kind) {
    case 'tcp':
      return { kind: 'tcp', port: open.port };
    case 'tls':
      return { kind: 'http', domain: open.serverName };
    default:
      return { kind: 'http', domain: open.host };
  }
}

/** Reads each incoming stream's head and hands it to the right handler. */
export function createStreamDispatcher(routes: RouteTable, events: StreamEvents = {}, raw: RawStreamHandlers = {}): (stream: MuxStream) => void {
  return (stream) => {
    stream.on('error', () => stream.destroy());
    readHead(stream, (err, json) => {
      if (err) {
        events.log?.(`dropped a stream with a bad head: ${err.message}`);
        return void stream.destroy();
      }
      let open;
      try {
        open = validateStreamOpen(json);
      } catch (invalid) {
        events.log?.(`dropped a stream with a bad head: ${(invalid as Error).message}`);
        return void stream.destroy();
      }
      if (events.onOpen) {
        events.onOpen({ stream, route: routeOf(open), remoteAddress: open.remoteAddress });
        stream.once('close', () => events.onClose?.({ id: stream.id, bytesIn: stream.bytesIn, bytesOut: stream.bytesOut }));
      }
      if (open.kind === 'http') {
        const { req, res } = exchangeFromStream(open, stream);
        routes.handlerFor(open.host)(req, res);
      } else if (open.kind === 'http-raw' && raw.httpRaw) {
        raw.httpRaw(open, stream);
      } else if (open.kind === 'tcp' && raw.tcp) {
        raw.tcp(open, stream);
      } else if (open.kind === 'tls' && raw.tls) {
        raw.tls(open, stream);
      } else {
        events.log?.(`no handler for ${open.kind} streams`);
        stream.destroy();
      }
    });
  };
}
