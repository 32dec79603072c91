import type { Socket } from 'node:net';
import type { MuxStream } from '../../../mux/stream';
import { counters } from '../admin/counters';
import { encodeHead } from '../../../protocol/stream-head';
import { RawPages } from '../pages';
import { BodyScanner, FramingError } from './body-framing';
import type { ClientPeer, FastRoute } from './fast-route';
import { parseRequestHead, type RequestHead } from './request-head';
import { parseResponseHead } from './response-head';
import { serializeRequestHead } from './serialize-head';

export interface FastConnectionHooks {
  /** The fast route for this request, or undefined to let the full HTTP server handle it. */
  /** Who the connection comes from (called once per connection). */
  peerOf(socket: Socket): ClientPeer;
  route(head: RequestHead, peer: ClientPeer): FastRoute | undefined;
  /** Gives the socket (with these unread bytes) to the full HTTP server. */
  handOff(socket: Socket, unread: Buffer): void;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Largest request head accepted (431 beyond); MAX_REQUEST_HEAD when unset. */
  maxHeadSize?: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * One visitor connection on the relay's fast path. Request heads are parsed (strictly)
 * to route each request and check its firewall; everything else travels as raw bytes
 * over one stream per route, to one origin connection at the agent. Responses are only
 * scanned for their framing, so the relay knows where each ends.
 *
 * Anything the fast path does not serve (the relay's own pages, unknown hosts, refusals,
 * webroot routes…) is handed to the full HTTP server once earlier responses are done.
 */
export class FastConnection {
  private unread: Buffer = EMPTY;
  private stream: MuxStream | undefined;
  private routeKey: string | undefined;
  private routeHost = ''; // the tunnel hostname the stream serves, for the page when it is lost
  private requestBody: BodyScanner | undefined;
  /** Methods of forwarded requests whose responses have not finished, oldest first. */
  private readonly awaiting: string[] = [];
  private responseUnread: Buffer = EMPTY;
  private responseBody: BodyScanner | undefined;
  private closeAfterResponse = false;
  private raw = false; // after a 101: bytes flow untouched both ways
  private handingOff = false;
  /** A malformed request waiting for earlier responses to finish before it is refused. */
  private pendingRefusal: { code: number; reason: string } | undefined;
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly peer: ClientPeer;

  constructor(
    private readonly socket: Socket,
    private readonly hooks: FastConnectionHooks,
  ) {
    socket.setNoDelay(true);
    this.peer = hooks.peerOf(socket);
    socket.on('data', this.onClientData);
    socket.on('end', () => this.onClientEnd());
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    socket.on('drain', () => this.stream?.resume());
    this.armTimer(hooks.headersTimeoutMs);
  }

  private armTimer(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.destroy(), ms);
    this.timer.unref();
  }

  private readonly onClientData = (chunk: Buffer): void => {
    if (this.raw) return this.writeToStream(chunk);
    this.unread = this.unread.length === 0 ? chunk : Buffer.concat([this.unread, chunk]);
    this.processRequests();
  };

  private onClientEnd(): void {
    if (this.raw || this.awaiting.length > 0) this.stream?.end();
    else this.destroy();
  }

  private writeToStream(bytes: Buffer): void {
    if (bytes.length > 0 && this.stream && !this.stream.write(bytes)) {
      this.socket.pause();
      this.stream.once('drain', () => this.socket.resume());
    }
  }

  private processRequests(): void {
    while (!this.finished && !this.handingOff) {
      if (this.requestBody) {
        let taken: number;
        try {
          taken = this.requestBody.scan(this.unread);
        } catch (err) {
          return this.refuse((err as FramingError).message);
        }
        this.writeToStream(this.unread.subarray(0, taken));
        this.unread = this.unread.subarray(taken);
        if (!this.requestBody.done) return;
        this.requestBody = undefined;
      }
      if (this.closeAfterResponse) {
        this.socket.pause(); // nothing more is read on a connection that will close
        return;
      }
      if (this.unread.length === 0) return;
      const result = parseRequestHead(this.unread, this.hooks.maxHeadSize);
      if (result.status === 'need-more') return;
      if (result.status === 'error') {
        this.pendingRefusal = { code: result.code, reason: result.reason };
        this.socket.pause();
        return this.maybeRefuse();
      }
      if (!this.startRequest(result.head)) {
        // Let the full server answer (and refuse) it, after earlier responses are out.
        this.handingOff = true;
        this.socket.pause();
        return this.maybeHandOff();
      }
    }
  }

  /** Forwards one request head; false when the fast path cannot serve it. */
  private startRequest(head: RequestHead): boolean {
    const route = this.hooks.route(head, this.peer);
    if (!route) return false;
    if (this.stream && this.routeKey !== route.key) return false;
    if (!this.stream) {
      this.stream = route.session.openStream();
      this.routeKey = route.key;
      this.routeHost = route.host;
      this.stream.on('data', this.onResponseData);
      this.stream.on('end', () => this.onStreamEnd());
      this.stream.on('error', () => this.onStreamLost());
      this.stream.on('drain', () => this.socket.resume());
      this.stream.write(
        encodeHead({ kind: 'http-raw', host: route.host, proto: route.proto, remoteAddress: route.clientAddress, remotePort: route.clientPort }),
      );
    }
    clearTimeout(this.timer);
    this.writeToStream(serializeRequestHead(head, route));
    this.unread = this.unread.subarray(head.size);
    this.awaiting.push(head.method);
    this.requestBody = new BodyScanner(head.body);
    if (head.close) this.closeAfterResponse = true;
    if (head.upgrade) {
      // Whatever follows an upgrade request belongs to the new protocol (or the connection closes).
      this.closeAfterResponse = true;
      this.requestBody = undefined;
    }
    return true;
  }

  private readonly onResponseData = (chunk: Buffer): void => {
    if (this.raw) return this.writeToClient(chunk);
    // A response's head and body slices leave in one write (writev), not one syscall each.
    this.socket.cork();
    try {
      this.scanResponses(chunk);
    } finally {
      this.socket.uncork();
    }
  };

  private scanResponses(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.responseBody) {
        let taken: number;
        try {
          taken = this.responseBody.scan(chunk, offset);
        } catch {
          return this.destroy();
        }
        this.writeToClient(chunk.subarray(offset, offset + taken));
        offset += taken;
        if (!this.responseBody.done) return;
        this.responseBody = undefined;
        this.responseFinished();
        if (this.finished) return;
        continue;
      }
      const rest = chunk.subarray(offset);
      this.responseUnread = this.responseUnread.length === 0 ? rest : Buffer.concat([this.responseUnread, rest]);
      offset = chunk.length;
      const method = this.awaiting[0];
      if (method === undefined) return this.destroy(); // a response nobody asked for
      const result = parseResponseHead(this.responseUnread, method);
      if (result.status === 'need-more') return;
      if (result.status === 'error') return this.destroy();
      const head = result.head;
      const headBytes = this.responseUnread.subarray(0, head.size);
      const after = this.responseUnread.subarray(head.size);
      this.responseUnread = EMPTY;
      this.writeToClient(headBytes);
      if (head.status >= 200 || head.status === 101) counters.response(head.status);
      if (head.status === 101) {
        this.raw = true;
        this.socket.resume();
        if (this.unread.length > 0) this.writeToStream(this.unread);
        this.unread = EMPTY;
        return this.writeToClient(after);
      }
      if (head.status >= 100 && head.status < 200) {
        chunk = after; // an interim response (100 Continue): the final one follows
        offset = 0;
        continue;
      }
      if (head.close) this.closeAfterResponse = true;
      this.responseBody = new BodyScanner(head.framing);
      if (this.responseBody.done) {
        this.responseBody = undefined;
        this.responseFinished();
        if (this.finished) return;
      }
      chunk = after;
      offset = 0;
    }
  }

  private writeToClient(bytes: Buffer): void {
    if (bytes.length > 0 && !this.socket.write(bytes)) this.stream?.pause();
  }

  private responseFinished(): void {
    this.awaiting.shift();
    if (this.awaiting.length > 0) return;
    if (this.closeAfterResponse) {
      this.finished = true;
      this.stream?.end();
      this.socket.end();
      return;
    }
    if (this.handingOff) return this.maybeHandOff();
    if (this.pendingRefusal) return this.maybeRefuse();
    this.armTimer(this.unread.length > 0 ? this.hooks.headersTimeoutMs : this.hooks.keepAliveTimeoutMs);
    this.processRequests();
  }

  /**
   * The relay is draining: an idle connection closes now, a busy one after its current response
   * (requests after it go to the full path, which refuses them).
   */
  finishUp(): void {
    if (this.finished || this.raw) return;
    if (this.awaiting.length === 0) return this.destroy();
    this.closeAfterResponse = true;
  }

  private maybeHandOff(): void {
    if (this.awaiting.length > 0 || this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.stream?.end();
    this.stream = undefined;
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    this.socket.removeAllListeners('error');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('drain');
    this.hooks.handOff(this.socket, this.unread);
  }

  private maybeRefuse(): void {
    if (this.awaiting.length === 0 && this.pendingRefusal) this.refuse(this.pendingRefusal.reason, this.pendingRefusal.code);
  }

  /** Answers a request the relay will not forward, and closes: its framing cannot be trusted. */
  private refuse(reason: string, code = 400): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    const title = { 400: 'Bad Request', 431: 'Request Header Fields Too Large', 501: 'Not Implemented', 505: 'HTTP Version Not Supported' }[code] ?? 'Bad Request';
    const body = `Refused: ${reason}.\n`;
    counters.response(code);
    this.socket.end(`HTTP/1.1 ${code} ${title}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    this.stream?.destroy();
  }

  private onStreamEnd(): void {
    if (this.finished) return;
    const closeDelimited = this.responseBody !== undefined && !this.responseBody.done;
    if (this.raw || closeDelimited) {
      this.finished = true;
      this.socket.end();
    } else if (this.awaiting.length > 0) {
      // The origin closed its connection with a request on it: a cut lets the visitor's client
      // retry it (browsers do on a reused connection), as it would with the origin itself.
      this.destroy();
    } else {
      this.stream?.end(); // the origin closed an idle connection; the next request opens another
      this.stream = undefined;
      this.routeKey = undefined;
    }
  }

  /** The stream was reset: the agent's session ended, or the agent's origin connection failed. */
  private onStreamLost(): void {
    if (this.finished) return;
    if (this.raw || this.awaiting.length === 0 || this.responseBody !== undefined) return this.onStreamEnd();
    // Nothing of the answer has been sent: the visitor gets a page saying what happened, as on
    // the full path, instead of a connection that just closes.
    this.finished = true;
    clearTimeout(this.timer);
    counters.response(502);
    this.socket.end(RawPages.tunnelLost(this.routeHost, this.awaiting[0]));
    this.stream?.destroy();
  }

  private destroy(): void {
    if (this.finished && this.socket.destroyed) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.stream?.destroy();
    this.socket.destroy();
  }
}
