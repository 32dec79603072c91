// A relay may open streams for visitors already waiting in the very read that carries its
// welcome. Those streams must reach the agent's handler, not be lost before it is attached (a
// request that hangs, then a crash when the relay resets the orphan).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { connectToRelay, type RelayConnection } from '../../agent/src/tunnel/relay-connection';
import { MuxSession } from '../../mux/session';
import type { MuxStream } from '../../mux/stream';
import { HANDSHAKE_VERSION } from '../../protocol/control';
import { Flag, FrameType, HEADER_SIZE, writeHeader } from '../../protocol/frame';

/** One Data frame opening stream `id` with `payload`, as the relay would send it. */
function openingFrame(id: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const frame = Buffer.alloc(HEADER_SIZE + body.length);
  writeHeader(frame, 0, FrameType.Data, Flag.SYN, id, body.length);
  body.copy(frame, HEADER_SIZE);
  return frame;
}

describe('agent connection: streams opened together with the welcome', () => {
  const closers: (() => void)[] = [];
  after(() => closers.forEach((close) => close()));

  it('hands them to onStream, even when they arrive in the same read as the welcome', { timeout: 10_000 }, async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    closers.push(() => {
      for (const client of server.clients) client.terminate();
      server.close();
    });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    server.on('connection', (ws) => {
      ws.once('message', () => {
        // Welcome and two stream openings leave in one write, so they arrive in one read.
        const socket = (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
        socket.cork();
        ws.send(JSON.stringify({ type: 'welcome', version: HANDSHAKE_VERSION, hostname: 'race.localhost', domain: 'localhost', keepaliveMs: 60_000 }));
        ws.send(openingFrame(2, 'first'), { binary: true });
        ws.send(openingFrame(4, 'second'), { binary: true });
        socket.uncork();
      });
    });
    const { port } = server.address() as AddressInfo;

    const received: string[] = [];
    let connection: RelayConnection | undefined;
    const both = new Promise<void>((resolve) => {
      const onStream = (stream: MuxStream): void => {
        stream.on('error', () => undefined); // aborted when the test closes the connection
        stream.once('data', (chunk: Buffer) => {
          received.push(chunk.toString());
          if (received.length === 2) resolve();
        });
      };
      void connectToRelay({ relayUrl: `http://127.0.0.1:${port}`, identity: 'race-test', onStream }).then((c) => (connection = c));
    });
    closers.push(() => connection?.ws.terminate());
    await both;
    assert.deepEqual(received.sort(), ['first', 'second']);
  });

  it('resets a stream nobody is there to serve, instead of leaving it open', async () => {
    const resets: number[] = [];
    let server!: MuxSession;
    const client = new MuxSession(
      { send: (m) => setImmediate(() => server.receive(m)), close: () => undefined },
      { side: 'client', acceptStreams: true, keepaliveIntervalMs: 0 },
    );
    server = new MuxSession({ send: (m) => setImmediate(() => client.receive(m)), close: () => undefined }, { side: 'server', acceptStreams: false, keepaliveIntervalMs: 0 });
    const stream = server.openStream();
    const reset = new Promise<void>((resolve) =>
      stream.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ERR_STREAM_RESET') resets.push(stream.id);
        resolve();
      }),
    );
    stream.write('anyone there?'); // the client has no 'stream' listener
    await reset;
    assert.deepEqual(resets, [stream.id]);
    assert.equal(client.isClosed, false, 'the session itself stays up');
  });
});
