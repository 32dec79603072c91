import type { WebSocket } from 'ws';
import { ControlChannel } from '../../mux/control-channel';
import { MuxSession } from '../../mux/session';
import type { MuxStream } from '../../mux/stream';
import { CloseCode, parseAgentMessage, type AgentToRelay } from '../../protocol/control';
import { SessionRoutes } from './session-routes';

/** One connected agent: its WebSocket, its multiplexed session, its routes, and who it is. */
export class AgentSession {
  readonly mux: MuxSession;
  readonly control: ControlChannel<AgentToRelay>;
  readonly routes = new SessionRoutes();
  readonly connectedAt = new Date();

  constructor(
    readonly ws: WebSocket,
    readonly identityId: string,
    readonly hostname: string,
    readonly remoteAddress: string,
    keepaliveMs: number,
  ) {
    this.mux = new MuxSession(
      {
        send: (message) => ws.send(message, { binary: true }),
        close: (reason) => ws.close(CloseCode.ProtocolError, reason.slice(0, 120)),
      },
      // The relay opens every stream; an agent that tries to is cut off.
      { side: 'server', acceptStreams: false, keepaliveIntervalMs: keepaliveMs, keepaliveTimeoutMs: keepaliveMs },
    );
    this.control = new ControlChannel<AgentToRelay>(
      (text) => ws.send(text),
      parseAgentMessage,
      (reason) => this.mux.protocolError(`bad control message: ${reason}`),
    );
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.mux.receive(data);
      else this.control.receive(data.toString('utf8'));
    });
    ws.on('close', (code, reason) => this.mux.transportClosed(`websocket closed (${code}${reason.length ? `: ${reason}` : ''})`));
    this.mux.once('close', (reason: string) => this.control.close(reason));
  }

  /** Whether this session's identity may serve the domain: its hostname or a subdomain of it. */
  ownsDomain(domain: string): boolean {
    return domain === this.hostname || domain.endsWith(`.${this.hostname}`);
  }

  openStream(): MuxStream {
    return this.mux.openStream();
  }

  get isOpen(): boolean {
    return !this.mux.isClosed;
  }

  close(code: number, reason: string): void {
    this.mux.close(reason);
    this.ws.close(code, reason.slice(0, 120));
  }
}
