import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { WebSocket, type ClientOptions } from 'ws';
import { acceptAgentSocket, type AgentSocket } from '../../relay/src/agent-link/agent-socket';
import { ReceivePool } from '../../relay/src/agent-link/receive-pool';
import { makeCa, makeLeaf, type TestCertificate } from '../helpers/test-certs';

const MAX_PAYLOAD = 1024 * 1024;
const SIZES = [0, 1, 125, 65536, 100_000, 600_000, MAX_PAYLOAD];

/** Node's private handle field, which acceptAgentSocket takes over on plain TCP sockets. */
type WithHandle = { _handle: (object & { useUserBuffer?: unknown }) | null };

/**
 * acceptAgentSocket reads a plain TCP socket through Node internals (`_handle`, `useUserBuffer`,
 * the `handle` and `onread` socket options). Where those are missing (TLS, a Duplex, a Node that
 * changed them) it must fall back to reading the socket as Node does, with the same behaviour.
 */
describe('agent WebSocket endpoint: handle take-over and its fallback', () => {
  let dir = '';
  let ca: TestCertificate;
  let leaf: TestCertificate;
  const servers: http.Server[] = [];
  const accepted: AgentSocket[] = [];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-link-fallback-'));
    ca = makeCa(dir);
    leaf = makeLeaf(dir, ca, 'relay', ['localhost']);
  });
  after(() => {
    for (const ws of accepted) ws.terminate();
    for (const server of servers) server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A server whose upgrades go to acceptAgentSocket after `prepare`; resolves each accepted end. */
  async function serve(server: http.Server, prepare: (socket: Duplex) => void = () => undefined) {
    servers.push(server);
    const ends: ((end: { ws: AgentSocket; upgraded: Duplex }) => void)[] = [];
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      prepare(socket);
      const ws = acceptAgentSocket(req, socket, head, { pool: new ReceivePool(), maxPayload: MAX_PAYLOAD });
      assert.ok(ws);
      accepted.push(ws);
      ws.on('error', () => ws.terminate());
      ends.shift()?.({ ws, upgraded: socket });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    return (url: string) => {
      const end = new Promise<{ ws: AgentSocket; upgraded: Duplex }>((resolve) => ends.push(resolve));
      // servername: passed on to tls.connect (the test certificate names localhost).
      const options = { perMessageDeflate: false, ca: ca.certPem, servername: 'localhost' } as ClientOptions;
      const client = new WebSocket(url.replace('PORT', String(port)), options);
      return { client, end };
    };
  }

  /** Messages of every size both ways, then a clean close. */
  async function exchange(client: WebSocket, ws: AgentSocket): Promise<void> {
    for (const size of SIZES) {
      const body = randomBytes(size);
      const got = new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(Buffer.from(data))));
      client.send(body);
      assert.ok((await got).equals(body), `a message of ${size} bytes arrives intact`);
    }
    const reply = once(client, 'message');
    ws.send(Buffer.from('from the relay'), { binary: true });
    assert.equal(String((await reply)[0]), 'from the relay');
    const closed = once(ws, 'close');
    client.close(4001, 'done');
    assert.equal((await closed)[0], 4001);
  }

  it('takes over a plain TCP socket (the pooled-read path is the one in use on this Node)', async () => {
    const connect = await serve(http.createServer());
    const { client, end } = connect('ws://127.0.0.1:PORT/');
    await once(client, 'open');
    const { ws, upgraded } = await end;
    assert.equal((upgraded as unknown as WithHandle)._handle, null, 'the upgraded socket gave its handle to the agent socket');
    await exchange(client, ws);
  });

  it('falls back to Node reads when the handle cannot read into given buffers', async () => {
    const connect = await serve(http.createServer(), (socket) => {
      const handle = (socket as unknown as WithHandle)._handle;
      assert.ok(handle);
      Object.defineProperty(handle, 'useUserBuffer', { value: undefined }); // as if Node had dropped it
    });
    const { client, end } = connect('ws://127.0.0.1:PORT/');
    await once(client, 'open');
    const { ws, upgraded } = await end;
    assert.notEqual((upgraded as unknown as WithHandle)._handle, null, 'the socket was left to Node');
    await exchange(client, ws);
  });

  it('falls back to Node reads on a TLS socket', async () => {
    const connect = await serve(https.createServer({ cert: leaf.certPem, key: leaf.keyPem }));
    const { client, end } = connect('wss://127.0.0.1:PORT/');
    await once(client, 'open');
    const { ws } = await end;
    await exchange(client, ws);
  });
});
