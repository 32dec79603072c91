import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFrames, encodeFrame, Flag, FrameError, FrameType, HEADER_SIZE, MAX_FRAME_PAYLOAD, writeHeader, type Frame } from '../../protocol/frame';

const decodeAll = (buf: Buffer): Frame[] => {
  const frames: Frame[] = [];
  decodeFrames(buf, (f) => frames.push({ ...f, payload: Buffer.from(f.payload) }));
  return frames;
};

describe('frame codec', () => {
  const samples: Frame[] = [
    { type: FrameType.Data, flags: Flag.SYN, streamId: 2, length: 5, payload: Buffer.from('hello') },
    { type: FrameType.Data, flags: Flag.FIN, streamId: 7, length: 0, payload: Buffer.alloc(0) },
    { type: FrameType.Data, flags: 0, streamId: 0xfffffffe, length: MAX_FRAME_PAYLOAD, payload: Buffer.alloc(MAX_FRAME_PAYLOAD, 1) },
    { type: FrameType.WindowUpdate, flags: Flag.ACK, streamId: 3, length: 1 << 20, payload: Buffer.alloc(0) },
    { type: FrameType.WindowUpdate, flags: Flag.RST, streamId: 4, length: 0, payload: Buffer.alloc(0) },
    { type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 0xffffffff, payload: Buffer.alloc(0) },
    { type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: 42, payload: Buffer.alloc(0) },
    { type: FrameType.GoAway, flags: 0, streamId: 0, length: 1, payload: Buffer.alloc(0) },
  ];

  it('round-trips every frame type, alone and batched in one message', () => {
    for (const frame of samples) assert.deepEqual(decodeAll(encodeFrame(frame)), [frame]);
    assert.deepEqual(decodeAll(Buffer.concat(samples.map(encodeFrame))), samples);
  });

  it('rejects truncated input at every cut point without delivering a partial frame', () => {
    const message = encodeFrame(samples[0]);
    for (let cut = 1; cut < message.length; cut++) {
      const delivered: Frame[] = [];
      assert.throws(() => decodeFrames(message.subarray(0, cut), (f) => delivered.push(f)), FrameError);
      assert.equal(delivered.length, 0, `cut at ${cut}`);
    }
  });

  it('rejects a data frame claiming more than the cap before allocating it', () => {
    const header = Buffer.alloc(HEADER_SIZE);
    writeHeader(header, 0, FrameType.Data, 0, 1, 0xffffffff);
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => decodeFrames(header, () => undefined), /exceeds/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024, 'no large allocation');
  });

  it('rejects unknown types, versions, flags, and stream-0 misuse', () => {
    const bad = (mutate: (b: Buffer) => void) => {
      const b = encodeFrame(samples[0]);
      mutate(b);
      return b;
    };
    assert.throws(() => decodeAll(bad((b) => (b[0] = 9))), /version/);
    assert.throws(() => decodeAll(bad((b) => (b[1] = 7))), /unknown frame type/);
    assert.throws(() => decodeAll(bad((b) => b.writeUInt16BE(0x80, 2))), /unknown flags/);
    assert.throws(() => decodeAll(bad((b) => b.writeUInt32BE(0, 4))), /stream 0/);
    assert.throws(() => decodeAll(encodeFrame({ type: FrameType.Ping, flags: Flag.SYN, streamId: 5, length: 0 })), /stream 0/);
    assert.throws(() => decodeAll(encodeFrame({ type: FrameType.WindowUpdate, flags: 0, streamId: 0, length: 1 })), /stream 0/);
  });

  it('never throws anything but FrameError on random garbage', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 5000; i++) {
      const garbage = Buffer.alloc(Math.floor(random() * 64));
      for (let j = 0; j < garbage.length; j++) garbage[j] = Math.floor(random() * 256);
      if (random() < 0.5 && garbage.length > 1) garbage[0] = 0; // make version checks pass sometimes
      try {
        decodeFrames(garbage, () => undefined);
      } catch (err) {
        assert.ok(err instanceof FrameError, String(err));
      }
    }
  });
});
