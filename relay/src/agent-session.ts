import type { WebSocket } from 'ws';
import { MuxSession } from '../../mux/session';
import type { MuxStream } from '../../mux/stream';
import { CloseCode } from '../../protocol/control';

/** One connected agent: its WebSocket, its multiplexed session, and who it is. */
export class AgentSession {
  readonly mux: MuxSession;
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
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.mux.receive(data);
      else this.mux.protocolError('unexpected control message after the handshake');
    });
    ws.on('close', (code, reason) => this.mux.transportClosed(`websocket closed (${code}${reason.length ? `: ${reason}` : ''})`));
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
