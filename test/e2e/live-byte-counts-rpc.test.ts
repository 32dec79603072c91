/**
 * Live byte counts end to end: a real relay, a real `portway rpc` agent driven over stdio the way
 * the extension drives it, and a WebSocket through the tunnel that stays open. The agent must
 * report the connection's growing counts while it is open, not only when it closes.
 */
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import {
  ConnectionDidCloseNotification,
  ConnectionDidOpenNotification,
  ConnectionDidUpdateNotification,
  ConnectionListRequest,
  type ConnectionBytes,
  type ConnectionInfo,
} from '../../protocol/rpc';
import type { TestOrigin } from '../helpers/origin';
import type { RelayProcess } from '../helpers/processes';
import { startSharingRpcAgent, type RpcAgent } from '../helpers/rpc-agent';

let relay: RelayProcess;
let origin: TestOrigin;
let agent: RpcAgent;
let hostname: string;

const TIMEOUT = { timeout: 60_000 };

before(async () => {
  ({ relay, origin, agent, hostname } = await startSharingRpcAgent('live-bytes'));
}, TIMEOUT);

after(async () => {
  await agent?.stop();
  await relay?.stop();
  await origin?.close();
}, TIMEOUT);

async function openSocket(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/live`, { headers: { host: hostname } });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

/** Sends `size` bytes as one message and waits for the origin's echo. */
async function roundTrip(ws: WebSocket, size: number): Promise<void> {
  const echoed = new Promise<number>((resolve) => ws.once('message', (data: Buffer) => resolve(data.length)));
  ws.send(Buffer.alloc(size, 0x61));
  assert.equal(await echoed, size);
}

test('an open WebSocket reports growing byte counts before it closes; the close carries the final counts', TIMEOUT, async () => {
  const ws = await openSocket();
  const open = await agent.waitForNotification<ConnectionInfo>(ConnectionDidOpenNotification.type, (c) => c.route.kind === 'http' && c.route.domain === hostname);
  const closedEarly = () => agent.notifications.some((n) => n.method === ConnectionDidCloseNotification.method && (n.params as { id: string }).id === open.id);
  const countsOf = (u: ConnectionDidUpdateNotification.Params) => u.connections.find((c) => c.id === open.id);
  const updateWith = (minIn: number, minOut: number) =>
    agent.waitForNotification<ConnectionDidUpdateNotification.Params>(ConnectionDidUpdateNotification.type, (u) => {
      const c = countsOf(u);
      return c !== undefined && c.bytesIn >= minIn && c.bytesOut >= minOut;
    });

  // 100 KB each way: the counts must show it while the socket is still open.
  await roundTrip(ws, 100_000);
  const first = countsOf(await updateWith(100_000, 100_000))!;
  assert.equal(closedEarly(), false, 'reported while open, not at close');
  assert.equal(ws.readyState, WebSocket.OPEN);

  // More traffic on the same connection: a later report with larger counts.
  await roundTrip(ws, 300_000);
  const second = countsOf(await updateWith(first.bytesIn + 300_000, first.bytesOut + 300_000))!;
  assert.ok(second.bytesIn > first.bytesIn && second.bytesOut > first.bytesOut, `grew: ${JSON.stringify({ first, second })}`);
  assert.equal(closedEarly(), false);

  // connection/list (what the extension reads after an agent restart) has the live counts too.
  const listed = (await agent.connection.sendRequest(ConnectionListRequest.type)).find((c) => c.id === open.id);
  assert.ok(listed, 'still listed as open');
  assert.ok(listed.bytesOut >= second.bytesOut, `listed ${listed.bytesOut} >= reported ${second.bytesOut}`);

  // Every report is coalesced: one entry per connection, never an empty message.
  const updates = agent.notifications.filter((n) => n.method === ConnectionDidUpdateNotification.method).map((n) => (n.params as ConnectionDidUpdateNotification.Params).connections);
  for (const list of updates) {
    assert.ok(list.length > 0, 'no empty reports');
    assert.equal(new Set(list.map((c: ConnectionBytes) => c.id)).size, list.length, 'one entry per connection');
  }

  const closed = agent.waitForNotification<ConnectionDidCloseNotification.Params>(ConnectionDidCloseNotification.type, (c) => c.id === open.id);
  ws.close();
  const close = await closed;
  assert.ok(close.bytesIn >= second.bytesIn && close.bytesOut >= second.bytesOut, `final counts ${JSON.stringify(close)} >= last live ones ${JSON.stringify(second)}`);
});
