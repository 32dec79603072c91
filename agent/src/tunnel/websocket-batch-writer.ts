import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { clientFrameHeaderSize, writeFrameHeader } from '../../../protocol/websocket-frame-header';

/** What of ws's WebSocket this writer touches (not in ws's typings). */
interface WebSocketInternals {
  _socket: Socket | null;
  _extensions: { 'permessage-deflate'?: unknown };
}

/**
 * Sends one mux batch as a binary WebSocket message whose header the session left room for in
 * front (message[0…headerSize)): header and frames leave in one socket write, where ws.send
 * would allocate a header and write both with cork + writev. The mask is all zeros, as ws sends
 * it for this agent (see relay-connection.ts), so the payload goes as it is.
 *
 * Writing to ws's socket directly keeps the order of ws's own writes (control messages, pongs,
 * the close frame): with no compression ws writes every message to the socket at once, in call
 * order, and never holds one back. With compression on (never, for the agent) it falls back to
 * ws.send.
 */
export function sendBatch(ws: WebSocket, message: Buffer, headerSize: number): void {
  const internals = ws as unknown as WebSocketInternals;
  const socket = internals._socket;
  if (ws.readyState !== WebSocket.OPEN || !socket || internals._extensions['permessage-deflate']) {
    return void ws.send(message.subarray(headerSize), { binary: true });
  }
  const payloadBytes = message.length - headerSize;
  const needed = clientFrameHeaderSize(payloadBytes);
  if (needed !== headerSize) throw new RangeError(`sendBatch: a ${payloadBytes}-byte message needs a ${needed}-byte header, not ${headerSize}`);
  writeFrameHeader(message, 0x2 /* binary */, payloadBytes, true);
  socket.write(message);
}
