/**
 * Stream framing between agent and relay (yamux-style, see protocol/SPEC.md).
 * Declared once here; agent and relay both import it.
 *
 * Header (12 bytes, big-endian):
 *   version u8 | type u8 | flags u16 | streamId u32 | length u32
 * For Data, `length` is the payload size that follows. For WindowUpdate it is the
 * credit delta, for Ping an opaque value, for GoAway an error code; those carry no payload.
 */

export const FRAME_VERSION = 0;
export const HEADER_SIZE = 12;

export enum FrameType {
  Data = 0,
  WindowUpdate = 1,
  Ping = 2,
  GoAway = 3,
}

export const Flag = {
  /** Opens a stream. */
  SYN: 0x1,
  /** Acknowledges a stream open (or answers a Ping). */
  ACK: 0x2,
  /** Half-close: the sender will send no more data on this stream. */
  FIN: 0x4,
  /** Abort the stream at once. */
  RST: 0x8,
} as const;
const KNOWN_FLAGS = Flag.SYN | Flag.ACK | Flag.FIN | Flag.RST;

export enum GoAwayCode {
  Normal = 0,
  ProtocolError = 1,
  InternalError = 2,
  /** The session was closed because its credentials were revoked or replaced. */
  Unauthorized = 3,
  /**
   * Another session of the same agent identity took over (the relay keeps one per identity).
   * A live agent that receives it stops instead of reconnecting: two agents sharing one identity
   * would otherwise replace each other forever.
   */
  Replaced = 4,
}

/** The largest Data payload a frame may carry; checked before anything is allocated. */
export const MAX_FRAME_PAYLOAD = 256 * 1024;
/** Credit each stream starts with in each direction. */
export const INITIAL_WINDOW = 1024 * 1024;
/** No peer may grant more credit than this on one stream. */
export const MAX_WINDOW = 16 * 1024 * 1024;
/** Largest batch of frames sent in one WebSocket message. */
export const MAX_MESSAGE_SIZE = 4 * 1024 * 1024;

export interface Frame {
  type: FrameType;
  flags: number;
  streamId: number;
  /** Payload size (Data), delta (WindowUpdate), opaque (Ping) or code (GoAway). */
  length: number;
  /** A view into the received message (Data only; empty otherwise). No copy is made. */
  payload: Buffer;
}

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

const EMPTY: Buffer = Buffer.alloc(0);

/** Writes a header into target at offset. */
export function writeHeader(target: Buffer, offset: number, type: FrameType, flags: number, streamId: number, length: number): void {
  // Byte by byte: it runs for every frame sent, and writeUInt*BE checks ranges the callers already keep.
  target[offset] = FRAME_VERSION;
  target[offset + 1] = type;
  target[offset + 2] = flags >>> 8;
  target[offset + 3] = flags;
  target[offset + 4] = streamId >>> 24;
  target[offset + 5] = streamId >>> 16;
  target[offset + 6] = streamId >>> 8;
  target[offset + 7] = streamId;
  target[offset + 8] = length >>> 24;
  target[offset + 9] = length >>> 16;
  target[offset + 10] = length >>> 8;
  target[offset + 11] = length;
}

/** Encodes one frame as a fresh buffer (header + payload). Used by tests and rarely-sent frames. */
export function encodeFrame(frame: Omit<Frame, 'payload'> & { payload?: Buffer }): Buffer {
  const payload = frame.payload ?? EMPTY;
  if (frame.type === FrameType.Data && payload.length !== frame.length) {
    throw new FrameError('data frame length does not match its payload');
  }
  if (payload.length > MAX_FRAME_PAYLOAD) throw new FrameError('payload exceeds MAX_FRAME_PAYLOAD');
  const out = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  writeHeader(out, 0, frame.type, frame.flags, frame.streamId, frame.length);
  payload.copy(out, HEADER_SIZE);
  return out;
}

/**
 * Decodes every frame in one WebSocket message, calling onFrame for each in order.
 * A message holds whole frames only; anything else is a FrameError (thrown before
 * the offending frame is delivered). Payloads are views, never allocations of a claimed size.
 */
export function decodeFrames(message: Buffer, onFrame: (frame: Frame) => void): void {
  let offset = 0;
  while (offset < message.length) {
    if (message.length - offset < HEADER_SIZE) throw new FrameError('truncated frame header');
    const version = message[offset];
    if (version !== FRAME_VERSION) throw new FrameError(`unsupported frame version ${version}`);
    const type = message[offset + 1];
    const flags = message.readUInt16BE(offset + 2);
    const streamId = message.readUInt32BE(offset + 4);
    const length = message.readUInt32BE(offset + 8);
    if ((flags & ~KNOWN_FLAGS) !== 0) throw new FrameError(`unknown flags 0x${flags.toString(16)}`);
    offset += HEADER_SIZE;
    let payload: Buffer = EMPTY;
    switch (type) {
      case FrameType.Data:
        if (length > MAX_FRAME_PAYLOAD) throw new FrameError(`data frame of ${length} bytes exceeds the ${MAX_FRAME_PAYLOAD} limit`);
        if (message.length - offset < length) throw new FrameError('truncated data frame');
        if (streamId === 0) throw new FrameError('data frame on stream 0');
        payload = message.subarray(offset, offset + length);
        offset += length;
        break;
      case FrameType.WindowUpdate:
        if (streamId === 0) throw new FrameError('window update on stream 0');
        break;
      case FrameType.Ping:
      case FrameType.GoAway:
        if (streamId !== 0) throw new FrameError(`${FrameType[type]} frame must use stream 0`);
        break;
      default:
        throw new FrameError(`unknown frame type ${type}`);
    }
    onFrame({ type, flags, streamId, length, payload });
  }
}
