import WebSocket from 'ws';
import { ControlChannel } from '../../../mux/control-channel';
import { MuxSession } from '../../../mux/session';
import type { MuxStream } from '../../../mux/stream';
import { AgentFeature, HANDSHAKE_TIMEOUT_MS, HANDSHAKE_VERSION, parseRelayMessage, type RefusalCode, type RelayToAgent, type Welcome } from '../../../protocol/control';
import { MAX_MESSAGE_SIZE } from '../../../protocol/frame';
import { connectUrl } from './relay-url';
import { clientFrameHeaderSize } from '../../../protocol/websocket-frame-header';
import { sendBatch } from './websocket-batch-writer';

export interface ConnectOptions {
  relayUrl: string;
  identity: string;
  auth?: string;
  requestedHostname?: string;
  agentName?: string;
  /** 'control' for short CLI sessions that must not replace a running tunnel. */
  mode?: 'tunnel' | 'control';
  /**
   * Serves the streams the relay opens. Set before the first frame is read: the relay may open
   * streams (visitors waiting for this tunnel) in the same read as its welcome.
   */
  onStream?: (stream: MuxStream) => void;
}

/** The relay said no; retrying the same request will not help. */
export class RelayRefusedError extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'RelayRefusedError';
  }
}

/** Something answered plain HTTP instead of the WebSocket upgrade (a proxy's 502, the relay's 503...). */
export class RelayHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RelayHttpError';
  }
}

export interface RelayConnection {
  welcome: Welcome;
  mux: MuxSession;
  control: ControlChannel<RelayToAgent>;
  ws: WebSocket;
}

/**
 * RFC 6455 masking exists so a hostile page in a browser cannot shape bytes that a confused
 * proxy cache would take for HTTP. The agent is not a browser and runs no untrusted script, so
 * it sends the all-zero mask, which ws (and the relay's reader) then skip: no copy of every
 * byte on either end. The frames stay valid WebSocket frames for nginx or an ingress.
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** Opens one WebSocket to the relay, does the handshake, and returns the multiplexed session. */
export function connectToRelay(options: ConnectOptions): Promise<RelayConnection> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    };
    const ws = new WebSocket(connectUrl(options.relayUrl), {
      perMessageDeflate: false,
      maxPayload: MAX_MESSAGE_SIZE + 1024,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      generateMask: zeroMask,
    });
    const timer = setTimeout(() => fail(new Error('relay did not answer the handshake in time')), HANDSHAKE_TIMEOUT_MS);
    ws.on('error', (err) => fail(new Error(`cannot reach relay ${options.relayUrl}: ${err.message}`)));
    ws.on('unexpected-response', (_req, res) =>
      fail(new RelayHttpError(res.statusCode ?? 0, `relay answered HTTP ${res.statusCode} instead of a WebSocket (is ${options.relayUrl} a Portway relay?)`)),
    );
    ws.on('close', (code, reason) => fail(new Error(`relay closed the connection during the handshake (${code} ${reason})`)));
    ws.on('open', () => {
      (ws as unknown as { _socket?: { setNoDelay(b: boolean): void } })._socket?.setNoDelay(true);
      ws.send(
        JSON.stringify({
          type: 'hello',
          version: HANDSHAKE_VERSION,
          identity: options.identity,
          auth: options.auth,
          requestedHostname: options.requestedHostname,
          agent: options.agentName,
          mode: options.mode ?? 'tunnel',
          features: options.mode === 'control' ? undefined : [AgentFeature.BlockedVisitors],
        }),
      );
    });
    ws.once('message', (data: Buffer, isBinary: boolean) => {
      if (settled) return;
      let message;
      try {
        if (isBinary) throw new Error('relay sent binary data before its welcome');
        message = parseRelayMessage(data.toString('utf8'));
      } catch (err) {
        return fail(err as Error);
      }
      if (message.type === 'refused') return fail(new RelayRefusedError(message.code, message.message));
      if (message.type !== 'welcome') return fail(new Error(`relay sent ${message.type} before its welcome`));
      const welcome = message;
      settled = true;
      clearTimeout(timer);
      ws.removeAllListeners('close');
      ws.removeAllListeners('error');
      const mux = new MuxSession(
        {
          send: (buf, written) => ws.send(buf, { binary: true }, written),
          headerSize: clientFrameHeaderSize,
          sendWithHeader: (message, headerSize) => sendBatch(ws, message, headerSize),
          close: (reason) => ws.close(1000, reason.slice(0, 120)),
        },
        { side: 'client', acceptStreams: true, keepaliveIntervalMs: welcome.keepaliveMs, keepaliveTimeoutMs: welcome.keepaliveMs },
      );
      const control = new ControlChannel<RelayToAgent>(
        (text) => ws.send(text),
        parseRelayMessage,
        (reason) => mux.protocolError(`bad control message: ${reason}`),
      );
      mux.once('close', (reason) => control.close(reason));
      if (options.onStream) mux.on('stream', options.onStream);
      ws.on('message', (chunk: Buffer, binary: boolean) => {
        if (binary) mux.receive(chunk);
        else control.receive(chunk.toString('utf8'));
      });
      ws.on('close', (code, reason) => mux.transportClosed(`relay connection closed (${code}${reason.length ? `: ${reason}` : ''})`));
      ws.on('error', (err) => mux.transportClosed(`relay connection failed: ${err.message}`));
      resolve({ welcome, mux, control, ws });
    });
  });
}
