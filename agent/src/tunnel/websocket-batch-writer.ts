import type { Socket } from 'node:net';
import WebSocket from 'ws';

/**
 * Size of the header of a binary WebSocket frame the agent (a client, so masked) sends with
 * `payloadBytes` of payload: 2 bytes, the extended length (2 or 8) when it does not fit in 7 bits,
 * and the 4-byte mask (RFC 6455 §5.2).
 */
export function clientFrameHeaderSize(payloadBytes: number): number {
  return 2 + (payloadBytes < 126 ? 0 : payloadBytes < 0x10000 ? 2 : 8) + 4;
}

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
  message[0] = 0x82; // FIN, opcode 2 (binary)
  let at = 2;
  if (payloadBytes < 126) {
    message[1] = 0x80 | payloadBytes;
  } else if (payloadBytes < 0x10000) {
    message[1] = 0x80 | 126;
    message[2] = payloadBytes >>> 8;
    message[3] = payloadBytes;
    at = 4;
  } else {
    message[1] = 0x80 | 127;
    message.writeUInt32BE(Math.floor(payloadBytes / 0x1_0000_0000), 2);
    message.writeUInt32BE(payloadBytes >>> 0, 6);
    at = 10;
  }
  message.fill(0, at, at + 4); // the zero mask
  if (at + 4 !== headerSize) throw new RangeError(`sendBatch: a ${payloadBytes}-byte message needs a ${at + 4}-byte header, not ${headerSize}`);
  socket.write(message);
}
