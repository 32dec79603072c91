import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { clientFrameHeaderSize } from '../../protocol/websocket-frame-header';
import { sendBatch } from '../../agent/src/tunnel/websocket-batch-writer';

const zeroMask = (mask: Buffer) => void mask.fill(0);

/**
 * The agent writes its mux batches straight to ws's private `_socket` (header in the batch's room);
 * where that is not safe (compression agreed, no socket) it must fall back to ws.send.
 */
describe('agent batch writer: ws internals and the fallback', () => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
  let url = '';
  before(async () => {
    if (!server.address()) await once(server, 'listening');
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => {
    for (const client of server.clients) client.terminate();
    server.close();
  });

  async function roundTrip(perMessageDeflate: boolean): Promise<void> {
    const accepted = once(server, 'connection');
    const client = new WebSocket(url, { perMessageDeflate, generateMask: zeroMask });
    await once(client, 'open');
    const [end] = (await accepted) as [WebSocket];
    assert.equal('_socket' in client, true, 'ws still keeps its socket in _socket');
    const sizes = [0, 125, 126, 65535, 65536, 300_000];
    const got: { data: Buffer; isBinary: boolean }[] = [];
    const all = new Promise<void>((resolve) =>
      end.on('message', (data: Buffer, isBinary) => {
        got.push({ data, isBinary });
        if (got.length === sizes.length + 1) resolve();
      }),
    );
    let viaSend = 0;
    const send = client.send.bind(client);
    client.send = ((...args: Parameters<WebSocket['send']>) => {
      viaSend++;
      return send(...args);
    }) as WebSocket['send'];
    const bodies = sizes.map((size) => randomBytes(size));
    for (const body of bodies) {
      const room = clientFrameHeaderSize(body.length);
      sendBatch(client, Buffer.concat([Buffer.alloc(room), body]), room);
    }
    client.send('after the batches'); // ws's own writes stay in order with the direct ones
    assert.equal(
      viaSend,
      perMessageDeflate ? sizes.length + 1 : 1,
      perMessageDeflate ? 'compression: every batch through ws.send' : 'batches written directly',
    );
    await all;
    bodies.forEach((body, i) => assert.ok(got[i].isBinary && got[i].data.equals(body), `a ${sizes[i]}-byte batch`));
    assert.deepEqual([String(got[sizes.length].data), got[sizes.length].isBinary], ['after the batches', false]);
    client.terminate();
  }

  it('writes batches to the socket directly when no compression is agreed', () => roundTrip(false));

  it('falls back to ws.send when compression is agreed', () => roundTrip(true));
});
