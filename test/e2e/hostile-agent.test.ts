import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from '../../protocol/control';
import { Flag, FrameType, GoAwayCode, HEADER_SIZE, MAX_FRAME_PAYLOAD, MAX_WINDOW } from '../../protocol/frame';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { RawAgent } from '../helpers/raw-agent';
import { getThrough } from '../helpers/relay-health';

/** Small, so a few dozen uploads into an agent that does not read exceed it (kernel buffers hold ~10 MiB). */
const MAX_UNSENT_MIB = 4;

/** A visitor's upload of `bytes`: resolves with the status, or 0 when the connection was closed on it. */
function uploadThrough(port: number, host: string, bytes: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { host, 'content-length': bytes }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end(Buffer.alloc(bytes, 'u'));
  });
}

describe('hostile agents are cut off alone (real relay, raw protocol client)', () => {
  let fx: HostileFixture;

  before(async () => {
    fx = await startHostileFixture({ relayArgs: ['--handshake-timeout-ms', '500', '--max-unsent-mib', String(MAX_UNSENT_MIB)] });
  });
  after(async () => fx?.stop());

  /** A raw agent that completed the handshake (it has a hostname of its own). */
  async function welcomed(): Promise<{ agent: RawAgent; hostname: string }> {
    const { agent, answer } = await RawAgent.connect(fx.relay.port);
    assert.equal(answer.type, 'welcome');
    return { agent, hostname: (answer as { hostname: string }).hostname };
  }

  /** The relay cut the agent off as a protocol error: GoAway(1), then close 4000. */
  async function assertCutOff(agent: RawAgent): Promise<void> {
    const closed = await agent.closed;
    assert.equal(closed.code, CloseCode.ProtocolError, closed.reason);
  }

  const attacks: Record<string, (agent: RawAgent) => void> = {
    'garbage bytes': (a) => a.sendBinary(Buffer.from('this is not a frame at all, just bytes')),
    'a truncated header': (a) => a.sendBinary(Buffer.alloc(HEADER_SIZE - 3)),
    'an unknown frame type': (a) => a.sendBinary(Buffer.from([0, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])),
    'unknown flags': (a) => a.sendBinary(Buffer.from([0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0])),
    'a wrong frame version': (a) => a.sendBinary(Buffer.from([7, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])),
    'an oversized data frame (claimed length, checked before reading)': (a) => {
      const header = Buffer.alloc(HEADER_SIZE);
      header.writeUInt8(FrameType.Data, 1);
      header.writeUInt32BE(2, 4);
      header.writeUInt32BE(0xfffffff0, 8);
      a.sendBinary(header);
    },
    'a data frame longer than MAX_FRAME_PAYLOAD': (a) => {
      const payload = Buffer.alloc(MAX_FRAME_PAYLOAD + 1);
      const header = Buffer.alloc(HEADER_SIZE);
      header.writeUInt8(FrameType.Data, 1);
      header.writeUInt32BE(2, 4);
      header.writeUInt32BE(payload.length, 8);
      a.sendBinary(Buffer.concat([header, payload]));
    },
    'data on a stream it never opened': (a) => a.sendFrame(FrameType.Data, 0, 1000, 5, Buffer.from('hello')),
    'a window update for a stream never opened': (a) => a.sendFrame(FrameType.WindowUpdate, 0, 4242, 1024),
    'a SYN (agents may not open streams)': (a) => a.sendFrame(FrameType.Data, Flag.SYN, 1, 0),
    'a SYN with an even (relay-side) id': (a) => a.sendFrame(FrameType.Data, Flag.SYN, 2, 0),
    'a control message that is not JSON': (a) => a.ws.send('{{{{ not json'),
    'an unknown control message': (a) => a.sendText({ type: 'take-over', hostname: 'everything' }),
  };

  for (const [name, attack] of Object.entries(attacks)) {
    it(`cuts off an agent that sends ${name}; the canary keeps working`, async () => {
      const { agent } = await welcomed();
      attack(agent);
      await assertCutOff(agent);
      await fx.healthy();
    });
  }

  it('cuts off an agent that floods window updates on a real stream', async () => {
    const { agent, hostname } = await welcomed();
    // A visitor's request makes the relay open a stream to the agent.
    const pending = getThrough(fx.relay.port, hostname, '/').catch(() => ({ status: 0, body: '' }));
    const syn = await agent.waitForFrame((f) => f.type === FrameType.Data && (f.flags & Flag.SYN) !== 0);
    const burst = Math.ceil((2 * MAX_WINDOW) / 65536);
    for (let i = 0; i < burst; i++) agent.sendFrame(FrameType.WindowUpdate, i === 0 ? Flag.ACK : 0, syn.streamId, 65536);
    await assertCutOff(agent);
    const goAway = agent.frames.find((f) => f.type === FrameType.GoAway);
    assert.equal(goAway?.length, GoAwayCode.ProtocolError);
    assert.equal((await pending).status, 502, 'the visitor gets a clear 502, not a hang');
    await fx.healthy();
  });

  it('cuts off an agent that never reads, once it leaves more than --max-unsent-mib unread; its visitors get answers', async () => {
    const { agent, hostname } = await welcomed();
    const offlineFrom = fx.relay.lines.length;
    (agent.ws as unknown as { _socket: Socket })._socket.pause();
    // Each upload may put one stream window (1 MiB) in flight towards the agent: together far more
    // than the limit, so the relay must cut the agent off rather than hold it all.
    const visitors = await Promise.all(Array.from({ length: 32 }, () => uploadThrough(fx.relay.port, hostname, 2 * 1024 * 1024)));
    await fx.relay.waitFor(new RegExp(`agent offline: ${hostname.replace(/\./g, '\\.')} \\(peer is not reading`), 10_000, offlineFrom);
    for (const status of visitors) assert.ok(status === 0 || status === 502, `a visitor got ${status}`);
    await fx.healthy();
  });

  it('cuts off many bad agents at once without disturbing the canary', async () => {
    const agents = await Promise.all(Array.from({ length: 30 }, () => welcomed()));
    agents.forEach(({ agent }, i) => {
      if (i % 3 === 0) agent.sendBinary(Buffer.alloc(64, 0xff));
      else if (i % 3 === 1) agent.sendFrame(FrameType.Data, Flag.SYN, 2 * i + 1, 0);
      else agent.sendFrame(FrameType.Data, 0, 9999, 3, Buffer.from('abc'));
    });
    await Promise.all(agents.map(({ agent }) => assertCutOff(agent)));
    await fx.healthy();
  });

  it('closes a connection that never says hello (handshake timeout)', async () => {
    const agent = await RawAgent.open(fx.relay.port);
    const started = Date.now();
    const closed = await agent.closed;
    assert.equal(closed.code, CloseCode.ProtocolError);
    assert.match(closed.reason, /handshake timeout/);
    assert.ok(Date.now() - started >= 400);
    await fx.healthy();
  });

  it('refuses a first message that is binary or not a hello', async () => {
    const binary = await RawAgent.open(fx.relay.port);
    binary.sendBinary(Buffer.alloc(12));
    assert.equal((await binary.closed).code, CloseCode.BadRequest);
    const notHello = await RawAgent.open(fx.relay.port);
    notHello.sendText({ type: 'routes', http: [], tcp: [] });
    assert.equal((await notHello.closed).code, CloseCode.BadRequest);
    await fx.healthy();
  });
});
