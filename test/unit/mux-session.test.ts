import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_STREAM_ID, MuxSession } from '../../mux/session';
import type { MuxStream } from '../../mux/stream';
import { encodeFrame, Flag, FrameType, GoAwayCode, INITIAL_WINDOW } from '../../protocol/frame';

/** Two sessions joined in memory; messages and the close are delivered asynchronously and in order, like a socket. */
function pair(options: { keepaliveIntervalMs?: number; serverFirstStreamId?: number } = {}) {
  const delivered = { toClient: 0, toServer: 0 };
  let client!: MuxSession;
  let server!: MuxSession;
  server = new MuxSession(
    { send: (m) => setImmediate(() => (delivered.toClient += m.length, client.receive(m))), close: () => setImmediate(() => client.transportClosed('closed')) },
    { side: 'server', acceptStreams: false, keepaliveIntervalMs: options.keepaliveIntervalMs ?? 0, firstStreamId: options.serverFirstStreamId },
  );
  client = new MuxSession(
    { send: (m) => setImmediate(() => (delivered.toServer += m.length, server.receive(m))), close: () => setImmediate(() => server.transportClosed('closed')) },
    { side: 'client', acceptStreams: true, keepaliveIntervalMs: options.keepaliveIntervalMs ?? 0 },
  );
  return { client, server, delivered };
}

const collect = (stream: MuxStream) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });

describe('multiplexed session', () => {
  it('sendNow sends at once when nothing is queued, and never overtakes bytes write() still holds', async () => {
    const { client, server } = pair();
    const relayEnd = server.openStream();
    const arrived = new Promise<MuxStream>((resolve) => client.once('stream', resolve));
    assert.equal(relayEnd.sendNow(Buffer.from('head|')), true);
    assert.equal(relayEnd.sendCredit, INITIAL_WINDOW - 5, 'the direct send spends credit at once');
    // More than the window: write() keeps the rest queued until the peer grants credit.
    const big = Buffer.alloc(INITIAL_WINDOW + 4096, 7);
    relayEnd.write(big);
    assert.equal(relayEnd.directCredit, 0);
    relayEnd.sendNow(Buffer.from('|tail'));
    relayEnd.end();
    const agentEnd = await arrived;
    const data = await collect(agentEnd);
    assert.equal(data.length, 5 + big.length + 5);
    assert.equal(data.subarray(0, 5).toString(), 'head|');
    assert.ok(data.subarray(5, 5 + big.length).equals(big));
    assert.equal(data.subarray(5 + big.length).toString(), '|tail', 'the tail came after everything written before it');
  });

  it('carries many concurrent streams both ways', async () => {
    const { client, server } = pair();
    client.on('stream', (s: MuxStream) => collect(s).then((data) => s.end(Buffer.concat([Buffer.from('re:'), data]))));
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const s = server.openStream();
        const answer = collect(s);
        s.end(`message ${i}`);
        return (await answer).toString();
      }),
    );
    answers.forEach((a, i) => assert.equal(a, `re:message ${i}`));
    assert.equal(server.streamCount, 0, 'closed streams are forgotten');
  });

  it('never sends more than the window ahead of a reader that does not read', async () => {
    const { client, server, delivered } = pair();
    let accepted: MuxStream | undefined;
    client.on('stream', (s: MuxStream) => {
      accepted = s;
      s.pause();
    });
    const s = server.openStream();
    const big = Buffer.alloc(8 * INITIAL_WINDOW, 7);
    let finished = false;
    s.write(big, () => (finished = true));
    // Wait (on delivery, not on a clock) until the reader holds a full window; then let any
    // further messages in flight arrive. More data would be a protocol error closing the session.
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('window never filled')), 10_000);
      const check = () => {
        if (accepted && accepted.readableLength >= INITIAL_WINDOW) {
          clearTimeout(deadline);
          return resolve();
        }
        setImmediate(check);
      };
      check();
    });
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    assert.equal(client.isClosed, false);
    assert.ok(delivered.toClient <= INITIAL_WINDOW + 4096, `sent ${delivered.toClient} bytes past a window of ${INITIAL_WINDOW}`);
    assert.equal(finished, false);
    assert.ok(accepted!.readableLength <= INITIAL_WINDOW);
    // Reading returns credit and the rest flows.
    const all = collect(accepted!);
    accepted!.resume();
    s.end();
    assert.equal((await all).length, big.length);
  });

  it('cuts off a peer that sends beyond the window it was given', async () => {
    const { client, server } = pair();
    const s = server.openStream();
    s.on('error', () => undefined);
    client.on('stream', (c: MuxStream) => c.on('error', () => undefined));
    s.write('hi');
    await new Promise<void>((resolve) => client.once('stream', () => resolve()));
    const closed = new Promise<string>((resolve) => server.once('close', resolve));
    // A hostile client: a frame bigger than the remaining window, written raw.
    const payload = Buffer.alloc(200 * 1024);
    const frames = [];
    for (let sent = 0; sent <= INITIAL_WINDOW; sent += payload.length) frames.push(encodeFrame({ type: FrameType.Data, flags: 0, streamId: s.id, length: payload.length, payload }));
    server.receive(Buffer.concat(frames));
    assert.match(await closed, /exceeded its window/);
  });

  it('cuts off a peer that writes to a stream it never opened, or opens streams it may not', async () => {
    const first = pair();
    const closed = new Promise<string>((resolve) => first.server.once('close', resolve));
    first.server.receive(encodeFrame({ type: FrameType.Data, flags: 0, streamId: 9, length: 1, payload: Buffer.from('x') }));
    assert.match(await closed, /never opened|may not open/);
    const second = pair();
    const closed2 = new Promise<string>((resolve) => second.server.once('close', resolve));
    second.server.receive(encodeFrame({ type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 1, length: 0 }));
    assert.match(await closed2, /may not open/);
  });

  it('cuts off a peer that floods empty window updates', async () => {
    const { client, server } = pair();
    client.on('stream', (c: MuxStream) => c.on('error', () => undefined));
    const s = server.openStream();
    s.on('error', () => undefined);
    s.write('x');
    await new Promise<void>((resolve) => client.once('stream', () => resolve()));
    const closed = new Promise<string>((resolve) => server.once('close', resolve));
    const flood = Array.from({ length: 1000 }, () => encodeFrame({ type: FrameType.WindowUpdate, flags: 0, streamId: s.id, length: 0 }));
    server.receive(Buffer.concat(flood));
    assert.match(await closed, /empty window update/);
  });

  it('ignores late frames for streams that already closed', async () => {
    const { client, server } = pair();
    client.on('stream', (s: MuxStream) => s.destroy());
    const s = server.openStream();
    s.on('error', () => undefined);
    s.write('x');
    await new Promise((resolve) => s.once('close', resolve));
    server.receive(encodeFrame({ type: FrameType.Data, flags: 0, streamId: s.id, length: 1, payload: Buffer.from('y') }));
    assert.equal(server.isClosed, false);
  });

  it('closes the session when pings go unanswered', async () => {
    const server = new MuxSession({ send: () => undefined, close: () => undefined }, { side: 'server', acceptStreams: false, keepaliveIntervalMs: 20, keepaliveTimeoutMs: 40 });
    // The session's timers are unref'd (they must not keep a process alive); hold the loop open here.
    const hold = setTimeout(() => undefined, 5000);
    const reason = await new Promise<string>((resolve) => server.once('close', resolve));
    clearTimeout(hold);
    assert.match(reason, /keepalive timeout/);
  });

  it('measures round-trip time from answered pings', async () => {
    const { client, server } = pair({ keepaliveIntervalMs: 10 });
    await new Promise<void>((resolve) => {
      const check = setInterval(() => server.rttMs !== undefined && (clearInterval(check), resolve()), 5);
    });
    assert.ok((server.rttMs ?? -1) >= 0);
    server.close();
    client.close();
  });

  it('rolls the session over cleanly instead of wrapping its stream ids past 2^32', async () => {
    const { client, server } = pair({ serverFirstStreamId: MAX_STREAM_ID - 1 });
    const seen: number[] = [];
    client.on('stream', (s: MuxStream) => {
      seen.push(s.id);
      s.end(); // answer and finish, so the last stream ends cleanly
      s.resume();
    });
    const last = server.openStream();
    assert.equal(last.id, MAX_STREAM_ID - 1);
    const answered = collect(last);
    last.end('last');
    await answered;
    const clientClosed = new Promise<string>((resolve) => client.once('close', resolve));
    const refused = server.openStream(); // no id left: a stream already reset, never id 0 on the wire
    const error = await new Promise<Error>((resolve) => refused.once('error', resolve));
    assert.match(error.message, /stream ids exhausted/);
    assert.match(await clientClosed, /peer went away/);
    assert.equal(client.peerGoAwayCode, GoAwayCode.Normal, 'a clean GoAway: the agent reconnects at once');
    assert.deepEqual(seen, [MAX_STREAM_ID - 1], 'the peer never saw a wrapped id');
    assert.equal(server.isClosed, true);
    assert.throws(() => server.openStream(), /session is closed/);
  });
});
