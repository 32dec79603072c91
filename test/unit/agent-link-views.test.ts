import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ViewReturn } from '../../mux/payload-lease';
import { MuxSession } from '../../mux/session';
import type { MuxStream } from '../../mux/stream';
import { decodeFrames, Flag, FrameType, HEADER_SIZE, INITIAL_WINDOW, MAX_FRAME_PAYLOAD, writeHeader } from '../../protocol/frame';
import { FrameReceiver } from '../../relay/src/agent-link/frame-receiver';
import { ReceivePool } from '../../relay/src/agent-link/receive-pool';

/** One masked client frame (binary, final) carrying `payload`. */
function wsFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? [length] : length < 0x10000 ? [126, length >> 8, length & 0xff] : [127, 0, 0, 0, 0, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
  const mask = randomBytes(4);
  const header = Buffer.from([0x82, 0x80 | lengthBytes[0], ...lengthBytes.slice(1), ...mask]);
  return Buffer.concat([header, payload.map((b, i) => b ^ mask[i & 3])]);
}

/** A mux message of Data frames for `streamId`, `sizes` bytes each, cut from `source` at `offset`. */
function dataMessage(streamId: number, source: Buffer, offset: number, sizes: number[]): Buffer {
  const parts: Buffer[] = [];
  for (const size of sizes) {
    const header = Buffer.alloc(HEADER_SIZE);
    writeHeader(header, 0, FrameType.Data, Flag.ACK, streamId, size);
    parts.push(header, source.subarray(offset, offset + size));
    offset += size;
  }
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The relay's read path for agent WebSockets, end to end in memory: WebSocket frames are "read"
 * in pieces of random size into the receiver's pooled buffers, the relay's mux session hands the
 * Data payloads to a stream as views, and a consumer like the fast path writes them to a
 * "visitor socket" whose writes complete a turn later. No byte of a view may change before its
 * write completed, and buffers must be reused (the point of the pool).
 */
async function transfer(options: { returnEarly: boolean }) {
  const pool = new ReceivePool();
  const credit = { bytes: INITIAL_WINDOW };
  const session = new MuxSession(
    {
      send: (message) =>
        decodeFrames(message, (frame) => {
          if (frame.type === FrameType.WindowUpdate) credit.bytes += frame.length;
        }),
      close: () => undefined,
    },
    { side: 'server', acceptStreams: false, keepaliveIntervalMs: 0 },
  );
  const stream: MuxStream = session.openStream();
  stream.returnsViews = true;
  stream.write('open');
  const receiver = new FrameReceiver(pool, 8 * 1024 * 1024, {
    message: (data, isBinary, lease) => (isBinary ? session.receive(data, lease) : undefined),
    ping: () => undefined,
    close: () => undefined,
    error: (code, message) => assert.fail(`receiver error ${code}: ${message}`),
  });

  const body = randomBytes(24 * 1024 * 1024);
  const stats = { changedBeforeWritten: 0, views: 0, writesPending: 0 };
  const received: Buffer[] = [];
  let receivedBytes = 0;
  const done = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      const back = ViewReturn.of(chunk);
      if (back) stats.views++;
      const atWrite = Buffer.from(chunk);
      received.push(atWrite);
      receivedBytes += chunk.length;
      // The visitor's socket: the write completes a turn later, and only then is the view given back.
      const written = options.returnEarly ? undefined : back?.afterWrite();
      back?.done(false);
      stats.writesPending++;
      setImmediate(() => {
        if (!chunk.equals(atWrite)) stats.changedBeforeWritten++;
        stats.writesPending--;
        written?.();
        if (receivedBytes === body.length && stats.writesPending === 0) resolve();
      });
    });
  });

  // The agent: sends what the window allows in messages of mixed shapes, read in random pieces.
  let sent = 0;
  while (sent < body.length) {
    while (credit.bytes > 0 && sent < body.length) {
      const room = Math.min(credit.bytes, body.length - sent);
      const shape = sent % 3;
      const sizes = shape === 0 ? [Math.min(room, 256 * 1024)] : shape === 1 ? [Math.min(room, 40_000), Math.min(Math.max(room - 40_000, 0), 20_000)].filter((n) => n > 0) : [Math.min(room, 17_000)];
      const message = dataMessage(stream.id, body, sent, sizes);
      const size = sizes.reduce((a, b) => a + b, 0);
      sent += size;
      credit.bytes -= size;
      const frame = wsFrame(message);
      for (let at = 0; at < frame.length; ) {
        const into = receiver.nextBuffer();
        const piece = Math.min(into.length, frame.length - at, 1 + Math.floor(Math.random() * 90_000));
        frame.copy(into, 0, at, at + piece);
        at += piece;
        receiver.onRead(piece, into);
      }
    }
    await new Promise((resolve) => setImmediate(resolve)); // window updates come back
  }
  await done;
  return { stats, pool, intact: sha(Buffer.concat(received)) === sha(body) };
}

describe('pooled agent reads: payload views', () => {
  it('no byte of a view changes before the visitor write completes; buffers are reused', async () => {
    const { stats, pool, intact } = await transfer({ returnEarly: false });
    assert.ok(intact, 'the body arrives intact');
    assert.equal(stats.changedBeforeWritten, 0, 'a pooled buffer was reused while a view of it was being written');
    assert.ok(stats.views > 50, `payloads were handed on as views (${stats.views})`);
    assert.ok(pool.allocated < 40, `24 MiB went through ${pool.allocated} buffers`);
  });

  it('the check catches a consumer that gives views back before its write completes', async () => {
    const { stats } = await transfer({ returnEarly: true });
    assert.ok(stats.changedBeforeWritten > 0, 'giving back early must be seen as bytes changing under the write');
  });

  it('a stream whose consumer does not give views back keeps them valid (never reused)', async () => {
    const pool = new ReceivePool();
    const session = new MuxSession({ send: () => undefined, close: () => undefined }, { side: 'server', acceptStreams: false, keepaliveIntervalMs: 0 });
    const stream = session.openStream();
    stream.write('open');
    const receiver = new FrameReceiver(pool, 8 * 1024 * 1024, {
      message: (data, _isBinary, lease) => session.receive(data, lease),
      ping: () => undefined,
      close: () => undefined,
      error: (code, message) => assert.fail(`receiver error ${code}: ${message}`),
    });
    const body = randomBytes(MAX_FRAME_PAYLOAD);
    const kept: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => kept.push(chunk)); // held, like a pipe's queue
    receiver.push(wsFrame(dataMessage(stream.id, body, 0, [body.length])));
    // Another agent's reads share the pool: they would take the buffer if it went back.
    const other = new FrameReceiver(pool, 8 * 1024 * 1024, { message: () => undefined, ping: () => undefined, close: () => undefined, error: () => undefined });
    for (let i = 0; i < 20; i++) other.push(wsFrame(randomBytes(300_000)));
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(Buffer.concat(kept).equals(body));
  });
});
