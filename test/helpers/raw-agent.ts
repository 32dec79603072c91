/**
 * A hand-driven agent for hostile tests: speaks the handshake and frames itself (no MuxSession),
 * so a test can send exactly the bytes a broken or malicious agent would.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import WebSocket from 'ws';
import { CONNECT_PATH, HANDSHAKE_VERSION, type RelayToAgent } from '../../protocol/control';
import { decodeFrames, encodeFrame, Flag, type Frame, FrameType } from '../../protocol/frame';

export interface RawAgentOptions {
  identity?: string;
  auth?: string;
  requestedHostname?: string;
  mode?: 'tunnel' | 'control';
  /** Bind the client socket here (127.0.0.x) to appear as a distinct address. */
  localAddress?: string;
}

export class RawAgent {
  readonly frames: Frame[] = [];
  readonly texts: RelayToAgent[] = [];
  /** Resolves when the relay closes the WebSocket. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private nextRequestId = 1;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return void this.texts.push(JSON.parse(data.toString('utf8')) as RelayToAgent);
      try {
        decodeFrames(data, (frame) => this.frames.push({ ...frame, payload: Buffer.from(frame.payload) }));
      } catch {
        // A test agent records what it can.
      }
    });
  }

  /** Opens the WebSocket (no hello yet). */
  static async open(relayPort: number, localAddress?: string): Promise<RawAgent> {
    const ws = new WebSocket(`ws://127.0.0.1:${relayPort}${CONNECT_PATH}`, { headers: { host: 'localhost' }, localAddress, perMessageDeflate: false });
    const agent = new RawAgent(ws);
    await Promise.race([once(ws, 'open'), agent.closed.then((c) => Promise.reject(new Error(`closed before open: ${c.code}`)))]);
    return agent;
  }

  /** Opens, says hello, and resolves with the relay's first answer (welcome or refused). */
  static async connect(relayPort: number, options: RawAgentOptions = {}): Promise<{ agent: RawAgent; answer: RelayToAgent }> {
    const agent = await RawAgent.open(relayPort, options.localAddress);
    agent.sendText({
      type: 'hello',
      version: HANDSHAKE_VERSION,
      identity: options.identity ?? randomBytes(32).toString('base64url'),
      auth: options.auth,
      requestedHostname: options.requestedHostname,
      mode: options.mode ?? 'tunnel',
    });
    const answer = await agent.nextText();
    return { agent, answer };
  }

  /** Answers the relay's keepalive pings from now on, as a live agent would (a rogue one too). */
  answerPings(): void {
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      try {
        decodeFrames(data, (frame) => {
          if (frame.type === FrameType.Ping && frame.flags & Flag.SYN) this.sendFrame(FrameType.Ping, Flag.ACK, 0, frame.length);
        });
      } catch {
        // Not ours to judge here.
      }
    });
  }

  /** Resolves once `count` frames match `test` (already received or still to come). */
  async waitForFrames(count: number, test: (frame: Frame) => boolean): Promise<Frame[]> {
    for (;;) {
      const found = this.frames.filter(test);
      if (found.length >= count) return found;
      await Promise.race([once(this.ws, 'message'), this.closed.then((c) => Promise.reject(new Error(`relay closed (${c.code} ${c.reason})`)))]);
    }
  }

  sendText(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  sendBinary(bytes: Buffer): void {
    this.ws.send(bytes, { binary: true });
  }

  sendFrame(type: FrameType, flags: number, streamId: number, length: number, payload?: Buffer): void {
    this.sendBinary(encodeFrame({ type, flags, streamId, length, payload }));
  }

  /** Resolves with the next control message (already received or still to come). */
  async nextText(from = 0): Promise<RelayToAgent> {
    for (;;) {
      if (this.texts.length > from) return this.texts[from];
      await Promise.race([once(this.ws, 'message'), this.closed.then((c) => Promise.reject(new Error(`relay closed (${c.code} ${c.reason})`)))]);
    }
  }

  /** Resolves with the first frame matching `test` (already received or still to come). */
  async waitForFrame(test: (frame: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const found = this.frames.find(test);
      if (found) return found;
      await Promise.race([once(this.ws, 'message'), this.closed.then((c) => Promise.reject(new Error(`relay closed (${c.code} ${c.reason})`)))]);
    }
  }

  /** A control request; resolves with the response message. */
  async request(method: string, params: unknown): Promise<{ result?: unknown; error?: { code: string; message: string } }> {
    const id = this.nextRequestId++;
    const from = this.texts.length;
    this.sendText({ type: 'request', id, method, params });
    for (let i = from; ; i++) {
      const message = (await this.nextText(i)) as { type: string; id?: number; result?: unknown; error?: { code: string; message: string } };
      if (message.type === 'response' && message.id === id) return message;
    }
  }

  close(): void {
    this.ws.terminate();
  }
}
