import type { Duplex } from 'node:stream';
import { serverFrameHeaderSize, writeFrameHeader } from '../../../protocol/websocket-frame-header';

/** The header of an unmasked server frame carrying `length` bytes, final. */
export function frameHeader(opcode: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(serverFrameHeaderSize(length));
  writeFrameHeader(header, opcode, length, false);
  return header;
}

/**
 * Writes one frame: header and payload leave in one writev (cork), the payload is not copied.
 * `written` is called once the socket took the bytes (or failed to).
 */
export function writeFrame(socket: Duplex, opcode: number, payload: Buffer, written?: (err?: Error | null) => void): void {
  const header = frameHeader(opcode, payload.length);
  if (payload.length === 0) {
    socket.write(header, written);
    return;
  }
  socket.cork();
  socket.write(header);
  socket.write(payload, written);
  socket.uncork();
}

/** A close frame's payload: the code and a reason cut to fit a control frame (125 bytes). */
export function closePayload(code: number | undefined, reason: string | undefined): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  let text = Buffer.from(reason ?? '', 'utf8');
  if (text.length > 123) text = Buffer.from(text.subarray(0, 123).toString('utf8').replace(/\uFFFD$/, ''), 'utf8');
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return payload;
}
