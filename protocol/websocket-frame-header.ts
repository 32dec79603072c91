/**
 * The header of a WebSocket frame (RFC 6455 §5.2), declared once for both ends of the agent's
 * link: the relay writes unmasked server frames, the agent masked client frames whose mask is all
 * zeros (so the payload goes as it is). Both write it into room left in front of a mux batch.
 */

/** Header bytes of a final frame with `payloadBytes` of payload: 2, the extended length (0, 2 or 8), the mask (4 if masked). */
function headerSize(payloadBytes: number, masked: boolean): number {
  return 2 + (payloadBytes < 126 ? 0 : payloadBytes < 0x10000 ? 2 : 8) + (masked ? 4 : 0);
}

/** Header size of an unmasked (server → client) frame. */
export const serverFrameHeaderSize = (payloadBytes: number): number => headerSize(payloadBytes, false);

/** Header size of a masked (client → server) frame. */
export const clientFrameHeaderSize = (payloadBytes: number): number => headerSize(payloadBytes, true);

/**
 * Writes the header of a final frame into target[0…size) and returns its size; a masked one
 * carries the all-zero mask.
 */
export function writeFrameHeader(target: Buffer, opcode: number, payloadBytes: number, masked: boolean): number {
  target[0] = 0x80 | opcode;
  const maskBit = masked ? 0x80 : 0;
  let at = 2;
  if (payloadBytes < 126) {
    target[1] = maskBit | payloadBytes;
  } else if (payloadBytes < 0x10000) {
    target[1] = maskBit | 126;
    target[2] = payloadBytes >>> 8;
    target[3] = payloadBytes & 0xff;
    at = 4;
  } else {
    target[1] = maskBit | 127;
    target.writeUInt32BE(Math.floor(payloadBytes / 0x1_0000_0000), 2);
    target.writeUInt32BE(payloadBytes >>> 0, 6);
    at = 10;
  }
  if (!masked) return at;
  target[at] = target[at + 1] = target[at + 2] = target[at + 3] = 0;
  return at + 4;
}
