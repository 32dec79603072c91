import type { Socket } from 'node:net';
import type { MuxStream } from '../../../mux/stream';
import { resetConnection } from '../../../common/net/reset-connection';
import { counters } from '../admin/counters';
import { encodeHead } from '../../../protocol/stream-head';
import { RawPages } from '../pages';
import { BodyScanner, FramingError } from './body-framing';
import type { ClientPeer, FastRoute } from './fast-route';
import { parseRequestHead, type RequestHead } from './request-head';
import { ResponseRelay, type ResponseRelayOwner } from './response-relay';
import { serializeRequestHead } from './serialize-head';
import { lingerThenClose, MAX_LINGER_MS, type LingerEnd } from '../visitor-linger';

export interface FastConnectionHooks {
  /** Who the connection comes from (called once per connection). */
  peerOf(socket: Socket): ClientPeer;
  /**
   * The fast route for this request, or undefined to let the full HTTP server handle it.
   * `heldRoute`: the key of the route whose stream the connection already holds (none is opened for it).
   */
  route(head: RequestHead, peer: ClientPeer, heldRoute: string | undefined): FastRoute | undefined;
  /** Gives the socket (with these unread bytes) to the full HTTP server. */
  handOff(socket: Socket, unread: Buffer): void;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** A request body that sends nothing for this long is cut (408 if no answer started). */
  bodyTimeoutMs: number;
  /** Largest request head accepted (431 beyond); MAX_REQUEST_HEAD when unset. */
  maxHeadSize?: number;
  /** A connection closed after its last answer (the visitor closed, or the linger ran out). */
  released?(how: LingerEnd): void;
  /** An origin's response head was refused (the visitor got a 502): logged, naming why. */
  badResponse?(host: string, reason: string): void;
}

const EMPTY = Buffer.alloc(0);

/** What follows the first `used` bytes; no new view when nothing does. */
function rest(bytes: Buffer, used: number): Buffer {
  return used === bytes.length ? EMPTY : bytes.subarray(used);
}

/** Where a connection is in its life: what its next bytes mean, and what follows the awaited responses. */
type Phase =
  | { kind: 'requests' } // request heads are parsed and forwarded
  | { kind: 'closing' } // the last request is forwarded (Connection: close, an upgrade): close after its response
  | { kind: 'handing-off' } // a request for the full server waits for earlier responses
  | { kind: 'refusing'; code: number; reason: string } // a malformed request waits for earlier responses
  | { kind: 'raw' } // after a 101: bytes flow untouched both ways
  | { kind: 'raw-half-closed' } // raw, and the origin has ended its side: the visitor may still send
  | { kind: 'finished' };

const REQUESTS: Phase = { kind: 'requests' };
const CLOSING: Phase = { kind: 'closing' };
const HANDING_OFF: Phase = { kind: 'handing-off' };
const RAW: Phase = { kind: 'raw' };
const RAW_HALF_CLOSED: Phase = { kind: 'raw-half-closed' };
const FINISHED: Phase = { kind: 'finished' };

/**
 * One visitor connection on the relay's fast path. Request heads are parsed (strictly)
 * to route each request and check its firewall; everything else travels as raw bytes
 * over one stream per route, to one origin connection at the agent. Responses are only
 * scanned for their framing, so the relay knows where each ends.
 *
 * Anything the fast path does not serve (the relay's own pages, unknown hosts, refusals,
 * webroot routes…) is handed to the full HTTP server once earlier responses are done.
 */
export class FastConnection implements ResponseRelayOwner {
  private unread: Buffer = EMPTY;
  private stream: MuxStream | undefined;
  private routeKey: string | undefined;
  private routeHost = ''; // the tunnel hostname the stream serves, for the page when it is lost
  private requestBody: BodyScanner | undefined;
  /** Methods of forwarded requests whose responses have not finished, oldest first. */
  readonly awaiting: string[] = [];
  /** The last request forwarded asked for an upgrade: only its answer may be a 101. */
  upgradeRequested = false;
  /** Answers from the stream to the visitor. */
  private readonly responses: ResponseRelay;
  private phase: Phase = REQUESTS;
  private timer: NodeJS.Timeout | undefined;
  private timerMs = 0;
  /** Whether the scheduled timer counts (see armTimer). */
  private timerArmed = false;
  /** Runs while a request body waits for the visitor's bytes; each byte that comes puts it back. */
  private bodyTimer: NodeJS.Timeout | undefined;
  private readonly peer: ClientPeer;

  constructor(
    private readonly socket: Socket,
    private readonly hooks: FastConnectionHooks,
  ) {
    socket.setNoDelay(true);
    // A visitor may half-close right after its request (`printf … | nc -N`): its answer still has
    // to go out, so the relay's side stays open until then (Node would end it at once). The full
    // server's sockets are half-open too, so a hand-off changes nothing.
    socket.allowHalfOpen = true;
    this.peer = hooks.peerOf(socket);
    this.responses = new ResponseRelay(socket, this);
    socket.on('data', this.onClientData);
    socket.on('end', () => this.onClientEnd());
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    socket.on('drain', () => this.stream?.resume());
    this.armTimer(hooks.headersTimeoutMs);
  }

  /** Bytes flow untouched both ways (after a 101). */
  get raw(): boolean {
    return this.phase.kind === 'raw' || this.phase.kind === 'raw-half-closed';
  }

  /** Nothing more is answered or forwarded (except a raw visitor's bytes, after the origin's end). */
  get finished(): boolean {
    return this.phase.kind === 'finished' || this.phase.kind === 'raw-half-closed';
  }

  /**
   * (Re)starts the idle or headers timeout. The timer stays scheduled while a request is answered,
   * merely disarmed: refresh() re-arms it in place, where clearing and creating one per request
   * would drop and rebuild Node's timer list (and the libuv timer) on a lone connection.
   */
  private armTimer(ms: number): void {
    this.timerArmed = true;
    if (this.timer && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    clearTimeout(this.timer);
    this.timerMs = ms;
    this.timer = setTimeout(this.onTimeout, ms);
    this.timer.unref();
  }

  private readonly onTimeout = (): void => {
    if (this.timerArmed) this.destroy();
  };

  /** For good: the connection is being closed or handed over. */
  private stopTimer(): void {
    this.timerArmed = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly onClientData = (chunk: Buffer): void => {
    if (this.raw) {
      if (this.phase.kind === 'raw-half-closed') this.timer?.refresh();
      return this.writeToStream(chunk);
    }
    if (this.finished) return; // the connection is closing: nothing more is read
    this.unread = this.unread.length === 0 ? chunk : Buffer.concat([this.unread, chunk]);
    this.processRequests();
  };

  private onClientEnd(): void {
    if (this.raw) return void this.stream?.end(); // the visitor's half-close goes on to the origin
    if (this.awaiting.length === 0) return this.destroy();
    // Nothing more comes: the connection closes once the requests on it are answered. The origin
    // gets no FIN meanwhile: Node's own servers drop a request whose client half-closed.
    if (this.phase.kind === 'requests') this.phase = CLOSING;
  }

  private writeToStream(bytes: Buffer): void {
    if (bytes.length > 0 && this.stream && !this.stream.sendNow(bytes)) {
      this.socket.pause();
      this.stream.once('drain', () => this.socket.resume());
    }
  }

  private processRequests(): void {
    while (this.phase.kind === 'requests' || this.phase.kind === 'closing') {
      if (this.requestBody) {
        let taken: number;
        try {
          taken = this.requestBody.scan(this.unread);
        } catch (err) {
          return this.refuse((err as FramingError).message);
        }
        if (taken > 0) {
          this.writeToStream(this.unread.subarray(0, taken));
          this.unread = rest(this.unread, taken);
        }
        if (!this.requestBody.done) return this.awaitBody();
        this.requestBody = undefined;
        this.stopBodyTimer();
      }
      if (this.phase.kind === 'closing') {
        this.socket.pause(); // nothing more is read on a connection that will close
        return;
      }
      if (this.unread.length === 0) return;
      const result = parseRequestHead(this.unread, this.hooks.maxHeadSize);
      if (result.status === 'need-more') return;
      if (result.status === 'error') {
        this.phase = { kind: 'refusing', code: result.code, reason: result.reason };
        this.socket.pause();
        return this.maybeRefuse();
      }
      if (!this.startRequest(result.head)) {
        // Let the full server answer (and refuse) it, after earlier responses are out.
        this.phase = HANDING_OFF;
        this.socket.pause();
        return this.maybeHandOff();
      }
    }
  }

  /** The request body waits for more: no byte within bodyTimeoutMs cuts it (the timer is reused, not remade, per chunk). */
  private awaitBody(): void {
    if (this.bodyTimer) {
      this.bodyTimer.refresh();
      return;
    }
    this.bodyTimer = setTimeout(this.onBodyTimeout, this.hooks.bodyTimeoutMs);
    this.bodyTimer.unref();
  }

  private stopBodyTimer(): void {
    if (this.bodyTimer === undefined) return;
    clearTimeout(this.bodyTimer);
    this.bodyTimer = undefined;
  }

  /**
   * A request body sent nothing for bodyTimeoutMs (a slow upload holding a stream of the tunnel).
   * Not while the relay itself stopped reading it (the stream towards the agent is full). With no
   * answer started the visitor gets a 408; otherwise the connection is reset (its answer is cut).
   */
  private readonly onBodyTimeout = (): void => {
    this.bodyTimer = undefined;
    if (!this.requestBody || this.phase.kind === 'finished') return;
    if (this.socket.isPaused()) return this.awaitBody();
    counters.bodyTimeouts++;
    const unanswered = this.awaiting.length === 1 && this.responses.idle;
    if (!unanswered) return this.reset();
    this.phase = FINISHED;
    this.stopTimer();
    counters.response(408);
    this.answerAndClose(RawPages.bodyTimeout(this.routeHost, this.hooks.bodyTimeoutMs));
  };

  /** Forwards one request head; false when the fast path cannot serve it. */
  private startRequest(head: RequestHead): boolean {
    const route = this.hooks.route(head, this.peer, this.stream ? this.routeKey : undefined);
    if (!route) return false;
    if (this.stream && this.routeKey !== route.key) return false;
    if (!this.stream) {
      this.stream = route.session.openStream(route.clientAddress);
      this.stream.returnsViews = true; // ResponseRelay gives every chunk back once written
      this.routeKey = route.key;
      this.routeHost = route.host;
      this.stream.on('data', this.responses.onData);
      this.stream.on('end', () => this.onStreamEnd());
      this.stream.on('error', () => this.onStreamLost());
      this.stream.on('drain', () => this.socket.resume());
      this.stream.write(
        encodeHead({ kind: 'http-raw', host: route.host, proto: route.proto, remoteAddress: route.clientAddress, remotePort: route.clientPort }),
      );
    }
    this.timerArmed = false; // no timeout while the request is answered
    counters.fastPathRequests++;
    this.writeToStream(serializeRequestHead(head, route, this.unread));
    this.unread = rest(this.unread, head.size);
    this.awaiting.push(head.method);
    // Most requests have no body: nothing to scan for.
    this.requestBody = head.body.kind === 'none' ? undefined : new BodyScanner(head.body);
    if (head.close) this.phase = CLOSING;
    if (head.upgrade) {
      // Whatever follows an upgrade request belongs to the new protocol (or the connection closes).
      this.upgradeRequested = true;
      this.phase = CLOSING;
      this.requestBody = undefined;
    }
    return true;
  }

  // --- called by the ResponseRelay ---

  switchedProtocols(): void {
    this.phase = RAW;
    this.socket.resume();
    if (this.unread.length > 0) this.writeToStream(this.unread);
    this.unread = EMPTY;
  }

  closeAfterResponse(): void {
    if (!this.finished) this.phase = CLOSING;
  }

  pauseResponses(): void {
    this.stream?.pause();
  }

  responseFinished(): void {
    this.awaiting.shift();
    if (this.awaiting.length > 0) return;
    switch (this.phase.kind) {
      case 'closing':
        this.phase = FINISHED;
        this.stream?.end();
        this.socket.end();
        // The visitor may still be sending (an early 413 to an upload), on a socket paused for a
        // stream that is gone, or just never close its side: drop what it sends until it stops.
        this.dropUntilClosed();
        return;
      case 'handing-off':
        return this.maybeHandOff();
      case 'refusing':
        return this.maybeRefuse();
      case 'requests':
        this.armTimer(this.unread.length > 0 ? this.hooks.headersTimeoutMs : this.hooks.keepAliveTimeoutMs);
        return this.processRequests();
    }
  }

  /**
   * The relay is draining: an idle connection closes now, a busy one after its current response
   * (requests after it go to the full path, which refuses them).
   */
  finishUp(): void {
    if (this.finished || this.raw) return;
    if (this.awaiting.length === 0) return this.destroy();
    if (this.phase.kind === 'requests') this.phase = CLOSING;
  }

  private maybeHandOff(): void {
    if (this.awaiting.length > 0 || this.phase.kind !== 'handing-off') return;
    this.phase = FINISHED;
    this.stopTimer();
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
    if (this.awaiting.length === 0 && this.phase.kind === 'refusing') this.refuse(this.phase.reason, this.phase.code);
  }

  /** Answers a request the relay will not forward, and closes: its framing cannot be trusted. */
  private refuse(reason: string, code = 400): void {
    if (this.finished) return;
    this.phase = FINISHED;
    this.stopTimer();
    const title = { 400: 'Bad Request', 431: 'Request Header Fields Too Large', 501: 'Not Implemented', 505: 'HTTP Version Not Supported' }[code] ?? 'Bad Request';
    const body = `Refused: ${reason}.\n`;
    counters.response(code);
    this.answerAndClose(`HTTP/1.1 ${code} ${title}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }

  /**
   * Sends a last answer and closes. The visitor may still be sending a request body (it may be
   * paused, waiting for a stream that is gone): what it sends is read and dropped, since closing
   * with unread bytes would reset the connection and could lose the answer, until it closes its
   * side or the linger (MAX_LINGER_MS, at most the idle timeout) passes. Without this the
   * connection would stay open for as long as the visitor.
   */
  private answerAndClose(last: string | Buffer): void {
    this.stopBodyTimer();
    this.socket.end(last);
    this.stream?.destroy();
    this.dropUntilClosed();
  }

  /**
   * After the last answer: reads and drops what the visitor still sends, until it closes its side
   * or the linger (never longer than the idle timeout) passes, so no socket is held unread.
   */
  private dropUntilClosed(): void {
    this.stopBodyTimer();
    this.stopTimer();
    lingerThenClose(this.socket, Math.min(MAX_LINGER_MS, this.hooks.keepAliveTimeoutMs), this.hooks.released);
  }

  private onStreamEnd(): void {
    if (this.finished) return;
    const closeDelimited = this.responses.awaitsClose;
    if (this.raw) {
      // The visitor may go on sending (a half-close), but not stay silent past the idle timeout.
      this.phase = RAW_HALF_CLOSED;
      this.socket.end();
      this.armTimer(this.hooks.keepAliveTimeoutMs);
    } else if (closeDelimited) {
      this.phase = FINISHED;
      this.socket.end();
      this.dropUntilClosed();
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
    if (this.phase.kind === 'finished') return;
    // Part of an answer (or of a raw conversation) is out: only a reset tells the visitor it was
    // cut. A clean close would make a close-delimited body look complete.
    if (this.raw || this.responses.inBody) return this.reset();
    if (this.awaiting.length === 0) return this.onStreamEnd();
    // Nothing of the answer has been sent: the visitor gets a page saying what happened, as on
    // the full path, instead of a connection that just closes.
    this.phase = FINISHED;
    this.stopTimer();
    counters.response(502);
    this.answerAndClose(RawPages.tunnelLost(this.routeHost, this.awaiting[0]));
  }

  /** The origin switched protocols unasked: the visitor gets a 502 and the connection closes. */
  refuseUnsolicitedSwitch(method: string): void {
    this.phase = FINISHED;
    this.stopTimer();
    counters.response(502);
    this.answerAndClose(RawPages.unsolicitedSwitch(this.routeHost, method));
  }

  /** The origin's response head is malformed (response-head.ts): 502 naming why, and both connections close. */
  refuseBadResponse(method: string, reason: string): void {
    this.hooks.badResponse?.(this.routeHost, reason);
    this.phase = FINISHED;
    this.stopTimer();
    counters.response(502);
    this.answerAndClose(RawPages.badResponse(this.routeHost, method, reason));
  }

  /** Ends the visitor's connection with a TCP reset: what it received was cut. */
  reset(): void {
    this.phase = FINISHED;
    this.stopTimer();
    this.stopBodyTimer();
    this.stream?.destroy();
    resetConnection(this.socket);
  }

  destroy(): void {
    this.stopBodyTimer();
    this.stopTimer(); // also after a clean finish: a disarmed timer would hold the connection until it fires
    if (this.finished && this.socket.destroyed) return;
    this.phase = FINISHED;
    this.stream?.destroy();
    this.socket.destroy();
  }
}
