import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { CloseCode } from '../../protocol/control';
import { Flag, FrameType, GoAwayCode, HEADER_SIZE, INITIAL_WINDOW, MAX_FRAME_PAYLOAD, MAX_WINDOW } from '../../protocol/frame';
import { startHostileFixture, type HostileFixture } from '../helpers/hostile-fixture';
import { RawAgent } from '../helpers/raw-agent';
import { getThrough, rssKiB } from '../helpers/relay-health';
import { uploadThrough } from '../helpers/visitor-upload';

/** Small, so a few dozen uploads into an agent that does not read exceed it (kernel buffers hold ~10 MiB). */
const MAX_UNSENT_MIB = 4;
/** Worst-case stream buffers per session: 40 streams of 1.25 MiB (a window one way, a Writable the other). */
const MAX_SESSION_BUFFER_MIB = 50;
const MAX_STREAMS_BY_BUFFER = 40;
/**
 * RSS growth the relay may show during a rogue-agent attack: what the limits let one session hold
 * (2 × MAX_UNSENT_MIB queued, MAX_SESSION_BUFFER_MIB in streams) plus the visitors' sockets, parsers
 * and garbage not yet collected; a busy 2-core CI machine collects late, hence the slack.
 */
const ATTACK_RSS_LIMIT_KIB = 160 * 1024;

/** A visitor's GET held open by the agent: resolves with the status, or 0 when the connection was closed on it. */
function getStatus(port: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/held', headers: { host }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', () => resolve(0));
  });
}

// Short enough to test the timeout quickly, long enough that 30 agents saying hello at once on a
// busy CI machine are all heard in time.
const HANDSHAKE_TIMEOUT_MS = 2_000;

describe('hostile agents are cut off alone (real relay, raw protocol client)', () => {
  let fx: HostileFixture;

  before(async () => {
    // Every visitor here comes from 127.0.0.1: no per-address share, so they can fill the whole session as an attack from many addresses would.
    fx = await startHostileFixture({
      relayArgs: [
        ...['--handshake-timeout-ms', String(HANDSHAKE_TIMEOUT_MS), '--max-unsent-mib', String(MAX_UNSENT_MIB)],
        ...['--max-session-buffer-mib', String(MAX_SESSION_BUFFER_MIB), '--address-share-percent', '100'],
      ],
    });
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

  /**
   * The memory side of a rogue-agent attack: the relay's RSS at its peak during the attack (read
   * after each canary answer) within ATTACK_RSS_LIMIT_KIB of the baseline, then back within the
   * usual margin (healthy() waits on that state, canary round trip by canary round trip, and
   * asserts it). Both figures go to the test log.
   */
  async function assertMemoryBounded(t: TestContext, name: string, attack: () => Promise<void>): Promise<void> {
    const { peakRssKiB, canaryAnswers } = await fx.throughout(attack);
    assert.ok(peakRssKiB - fx.baselineKiB <= ATTACK_RSS_LIMIT_KIB, `${name}: relay RSS grew ${peakRssKiB - fx.baselineKiB} KiB during the attack`);
    await fx.healthy();
    const afterKiB = rssKiB(fx.relay.child.pid!);
    t.diagnostic(`${name}: relay RSS baseline ${fx.baselineKiB} KiB, peak during ${peakRssKiB} KiB (+${peakRssKiB - fx.baselineKiB}), once returned ${afterKiB} KiB (+${afterKiB - fx.baselineKiB}); canary answered ${canaryAnswers} times during`);
  }

  it('cuts off an agent that never reads, once it leaves more than --max-unsent-mib unread; its visitors get answers; memory is bounded and returned', async (t) => {
    const { agent, hostname } = await welcomed();
    agent.answerPings();
    const offlineFrom = fx.relay.lines.length;
    (agent.ws as unknown as { _socket: Socket })._socket.pause();
    await assertMemoryBounded(t, 'agent stops reading while 32 visitors upload 2 MiB each', async () => {
      // Each upload may put one stream window (1 MiB) in flight towards the agent: together far more
      // than the limit, so the relay must cut the agent off rather than hold it all.
      const visitors = await Promise.all(Array.from({ length: 32 }, () => uploadThrough(fx.relay.port, hostname, 2 * 1024 * 1024)));
      await fx.relay.waitFor(new RegExp(`agent offline: ${hostname.replace(/\./g, '\\.')} \\(peer is not reading`), 10_000, offlineFrom);
      for (const status of visitors) assert.ok(status === 0 || status === 502, `a visitor got ${status}`);
    });
  });

  it('bounds the streams of an agent that holds every request open (windows × streams): visitors beyond get 503; memory is bounded and returned', async (t) => {
    const { agent, hostname } = await welcomed();
    agent.answerPings();
    await assertMemoryBounded(t, 'agent holds 300 requests open', async () => {
      const busyExpected = 300 - MAX_STREAMS_BY_BUFFER;
      let busy = 0;
      let allBusy!: () => void;
      const allBusyAnswered = new Promise<void>((resolve) => (allBusy = resolve));
      const visitors = Array.from({ length: 300 }, () =>
        getStatus(fx.relay.port, hostname).then((status) => {
          if (status === 503 && ++busy === busyExpected) allBusy();
          return status;
        }),
      );
      await agent.waitForFrames(MAX_STREAMS_BY_BUFFER, (f) => f.type === FrameType.Data && (f.flags & Flag.SYN) !== 0);
      await allBusyAnswered;
      const opened = agent.frames.filter((f) => f.type === FrameType.Data && (f.flags & Flag.SYN) !== 0).length;
      assert.equal(opened, MAX_STREAMS_BY_BUFFER, 'no more streams than the buffer budget allows');
      agent.close();
      const statuses = await Promise.all(visitors);
      assert.equal(statuses.filter((s) => s === 503).length, busyExpected, 'the rest were told the tunnel is busy');
      assert.ok(statuses.every((s) => s === 503 || s === 502 || s === 0), `statuses: ${[...new Set(statuses)].join(',')}`);
    });
  });

  it('bounds an agent that reads but never grants credit while visitors upload: memory is bounded and returned', async (t) => {
    const { agent, hostname } = await welcomed();
    agent.answerPings();
    await assertMemoryBounded(t, 'agent takes one window of 40 uploads of 8 MiB and grants no more', async () => {
      const visitors = Array.from({ length: MAX_STREAMS_BY_BUFFER }, () => uploadThrough(fx.relay.port, hostname, 8 * 1024 * 1024));
      // Every stream spent its window towards the agent; the rest of each upload waits at the relay or the visitor.
      const received = () => agent.frames.reduce((bytes, f) => bytes + (f.type === FrameType.Data ? f.payload.length : 0), 0);
      // A burst of 40 windows may also overflow the send queue (this agent reads in a busy test
      // process): being cut off is the other bounded outcome.
      await Promise.race([agent.waitForFrames(1, () => received() >= MAX_STREAMS_BY_BUFFER * INITIAL_WINDOW).catch(() => undefined), agent.closed]);
      agent.close();
      for (const status of await Promise.all(visitors)) assert.ok(status === 0 || status === 502, `a visitor got ${status}`);
    });
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
    assert.ok(Date.now() - started >= HANDSHAKE_TIMEOUT_MS * 0.8);
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
