import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, type ClientOptions } from 'ws';
import { acceptAgentSocket, type AgentSocket } from '../../relay/src/agent-link/agent-socket';
import { serverFrameHeaderSize } from '../../protocol/websocket-frame-header';
import { ReceivePool } from '../../relay/src/agent-link/receive-pool';

const MAX_PAYLOAD = 1024 * 1024;

/**
 * The relay's own WebSocket endpoint (relay/src/agent-link/) against the `ws` client the agent
 * uses, and against raw bytes for what `ws` would never send.
 */
describe('agent WebSocket endpoint', () => {
  const server = http.createServer();
  const accepted: AgentSocket[] = [];
  let nextSocket: ((socket: AgentSocket) => void) | undefined;
  let port = 0;

  before(async () => {
    server.on('upgrade', (req, socket, head) => {
      const ws = acceptAgentSocket(req, socket, head, { pool: new ReceivePool(), maxPayload: MAX_PAYLOAD });
      if (!ws) return;
      accepted.push(ws);
      ws.on('error', () => ws.terminate());
      nextSocket?.(ws);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => {
    for (const ws of accepted) ws.terminate();
    server.close();
  });

  /** A `ws` client (random masks, as `ws` does by default) and the server end it got. */
  async function connect(options: ClientOptions = {}): Promise<{ client: WebSocket; end: AgentSocket }> {
    const end = new Promise<AgentSocket>((resolve) => (nextSocket = resolve));
    const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, ...options });
    await once(client, 'open');
    return { client, end: await end };
  }

  function nextMessage(end: AgentSocket): Promise<{ data: Buffer; isBinary: boolean }> {
    return new Promise((resolve) => end.once('message', (data, isBinary) => resolve({ data: Buffer.from(data), isBinary })));
  }

  it('receives text and binary messages of every size intact (masked, spanning reads)', async () => {
    const { client, end } = await connect();
    for (const size of [0, 1, 125, 126, 65535, 65536, 100_000, 600_000, MAX_PAYLOAD]) {
      const body = randomBytes(size);
      const got = nextMessage(end);
      client.send(body);
      const { data, isBinary } = await got;
      assert.equal(isBinary, true);
      assert.ok(data.equals(body), `binary message of ${size} bytes`);
    }
    const text = nextMessage(end);
    client.send('héllo');
    assert.deepEqual(await text, { data: Buffer.from('héllo'), isBinary: false });
    client.close();
    await once(end, 'close');
  });

  it('receives many messages sent at once, in order', async () => {
    const { client, end } = await connect();
    const sent = Array.from({ length: 200 }, (_, i) => randomBytes((i * 7919) % 70_000));
    const got: Buffer[] = [];
    const all = new Promise<void>((resolve) =>
      end.on('message', (data) => {
        got.push(Buffer.from(data));
        if (got.length === sent.length) resolve();
      }),
    );
    for (const body of sent) client.send(body);
    await all;
    sent.forEach((body, i) => assert.ok(got[i].equals(body), `message ${i}`));
    client.terminate();
  });

  it('assembles a fragmented message', async () => {
    const { client, end } = await connect();
    const got = nextMessage(end);
    client.send(Buffer.from('one '), { fin: false });
    client.send(Buffer.from('two '), { fin: false });
    client.send(Buffer.from('three'), { fin: true });
    assert.equal((await got).data.toString(), 'one two three');
    client.terminate();
  });

  it('sends text and binary messages the client reads, and answers pings', async () => {
    const { client, end } = await connect();
    const messages: [string, boolean][] = [];
    client.on('message', (data, isBinary) => messages.push([String(data), isBinary]));
    end.send('text');
    end.send(Buffer.from('binary'), { binary: true });
    end.send(randomBytes(200_000).fill(65), { binary: true });
    const pong = once(client, 'pong');
    client.ping(Buffer.from('are you there'));
    assert.equal(String((await pong)[0]), 'are you there');
    assert.deepEqual(messages.slice(0, 2), [
      ['text', false],
      ['binary', true],
    ]);
    assert.equal(messages[2][0].length, 200_000);
    client.terminate();
  });

  it('sends a batch whose header is written into the room left in front of it (sendWithHeader)', async () => {
    const { client, end } = await connect();
    const sizes = [0, 1, 125, 126, 65535, 65536, 200_000];
    const got: Buffer[] = [];
    const all = new Promise<void>((resolve) =>
      client.on('message', (data: Buffer, isBinary) => {
        assert.equal(isBinary, true);
        got.push(data);
        if (got.length === sizes.length) resolve();
      }),
    );
    const bodies = sizes.map((size) => randomBytes(size));
    for (const body of bodies) {
      const room = serverFrameHeaderSize(body.length);
      const message = Buffer.concat([Buffer.alloc(room, 0xee), body]);
      end.sendWithHeader(message, room);
    }
    await all;
    bodies.forEach((body, i) => assert.ok(got[i].equals(body), `a ${sizes[i]}-byte batch`));
    assert.throws(() => end.sendWithHeader(Buffer.alloc(200), 2), RangeError, 'a header that does not fit its room is refused');
    client.terminate();
  });

  it('finishes a close the client starts, with its code and reason', async () => {
    const { client, end } = await connect();
    const closed = once(end, 'close');
    const clientClosed = once(client, 'close');
    client.close(4001, 'bye now');
    const [code, reason] = await closed;
    assert.equal(code, 4001);
    assert.equal(String(reason), 'bye now');
    assert.equal((await clientClosed)[0], 4001);
    assert.equal(end.readyState, end.CLOSED);
  });

  it('closes with a code and reason of its own; the client sees them', async () => {
    const { client, end } = await connect();
    const clientClosed = once(client, 'close');
    const closed = once(end, 'close');
    end.close(4000, 'protocol error: something');
    const [code, reason] = await clientClosed;
    assert.equal(code, 4000);
    assert.equal(String(reason), 'protocol error: something');
    assert.equal((await closed)[0], 4000);
  });

  it('closes a message over the largest payload with 1009', async () => {
    const { client, end } = await connect();
    const clientClosed = once(client, 'close');
    const error = once(end, 'error');
    client.send(Buffer.alloc(MAX_PAYLOAD + 1));
    assert.equal((await error)[0].closeCode, 1009);
    assert.equal((await clientClosed)[0], 1009);
  });

  it('terminate() drops the connection; bufferedAmount counts unsent bytes', async () => {
    const { client, end } = await connect();
    assert.equal(end.bufferedAmount, 0);
    const clientClosed = once(client, 'close');
    end.terminate();
    assert.equal((await clientClosed)[0], 1006);
  });

  /** A raw client: the handshake, then whatever bytes the test writes; resolves the close code it reads. */
  async function rawClient(): Promise<{ socket: net.Socket; end: AgentSocket; closeCode: Promise<number> }> {
    const endP = new Promise<AgentSocket>((resolve) => (nextSocket = resolve));
    const socket = net.connect(port, '127.0.0.1');
    socket.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    let received = Buffer.alloc(0);
    const closeCode = new Promise<number>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const at = received.indexOf('\r\n\r\n');
        if (at < 0) return;
        const frames = received.subarray(at + 4);
        if (frames.length >= 4 && (frames[0] & 0x0f) === 8) resolve(frames.readUInt16BE(2));
      });
      socket.on('close', () => resolve(-1));
    });
    const end = await endP;
    end.on('error', () => undefined);
    return { socket, end, closeCode };
  }

  it('answers the handshake with the RFC 6455 accept key', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const [head] = await once(socket, 'data');
    assert.match(String(head), /^HTTP\/1\.1 101 /);
    assert.match(String(head), /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    socket.destroy();
  });

  it('refuses an upgrade without a valid key or version (400)', async () => {
    for (const bad of ['Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12']) {
      const socket = net.connect(port, '127.0.0.1');
      socket.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${bad}\r\n\r\n`);
      const [head] = await once(socket, 'data');
      assert.match(String(head), /^HTTP\/1\.1 400 /);
      socket.destroy();
    }
  });

  it('closes with 1002 on an unmasked frame, reserved bits or an unknown opcode', async () => {
    for (const frame of [Buffer.from([0x82, 0x01, 0x41]), Buffer.from([0xc2, 0x81, 0, 0, 0, 0, 0x41]), Buffer.from([0x83, 0x80, 0, 0, 0, 0])]) {
      const { socket, closeCode } = await rawClient();
      socket.write(frame);
      assert.equal(await closeCode, 1002, frame.toString('hex'));
      socket.destroy();
    }
  });

  it('closes with 1009 on a declared length over the largest payload, before any of it arrives', async () => {
    const { socket, closeCode } = await rawClient();
    const header = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
    socket.write(header);
    assert.equal(await closeCode, 1009);
    socket.destroy();
  });

  it('reads a message that came with the upgrade request itself (the head)', async () => {
    // Listening at once, as the gateway does: the message is emitted on the next tick.
    const got = new Promise<{ data: Buffer; isBinary: boolean }>((resolve) => {
      nextSocket = (end) => end.once('message', (data, isBinary) => resolve({ data: Buffer.from(data), isBinary }));
    });
    const socket = net.connect(port, '127.0.0.1');
    const mask = [1, 2, 3, 4];
    const payload = Buffer.from('early').map((b, i) => b ^ mask[i & 3]);
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | 5, ...mask]), payload]);
    socket.write(
      Buffer.concat([
        Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`),
        frame,
      ]),
    );
    const { data, isBinary } = await got;
    assert.equal(data.toString(), 'early');
    assert.equal(isBinary, false);
    socket.destroy();
  });
});
