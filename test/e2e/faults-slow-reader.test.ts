// A visitor reading a big download at 10 KB/s holds one stream of the tunnel's session: the other
// visitors of that tunnel (small requests, a full-speed download) are served meanwhile, and the
// relay holds about one window for the slow one, not its body. The small requests' p99 beside the
// slow reader is held against the same run's idle p99 (the worse of one run before and one after,
// so a machine that got busier meanwhile is not blamed on the tunnel) with a ratio generous enough
// for a shared CI machine, and against an absolute ceiling: a stream waiting behind the slow reader
// would take seconds, not a few times its idle latency.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { before, describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { patternDigest, startOrigin } from '../helpers/origin';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess } from '../helpers/processes';
import { getThrough, rssKiB } from '../helpers/relay-health';

const SLOW_BYTES = 256 * 1024 * 1024; // far more than the limit below: buffering it would show
const FAST_BYTES = 32 * 1024 * 1024;
const SMALL_REQUESTS = 300;
const RSS_GROWTH_LIMIT_KIB = 32 * 1024;
/** p99 beside the slow reader ≤ this × idle p99 … */
const P99_RATIO_LIMIT = 5;
/** … and below this, however slow the idle runs were. */
const P99_CEILING_MS = 1000;
/** With the full-speed download too (which shares the machine's two cores): the ceiling only. */
const P99_BUSY_CEILING_MS = 3000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

describe('a 10 KB/s reader beside other visitors of the same tunnel (real processes on loopback)', () => {
  const { track, cleanups } = suiteCleanups();
  let relay: RelayProcess;
  let hostname: string;

  before(async () => {
    const origin = track(await startOrigin());
    relay = track(await startRelay());
    const configured = await configureAgent(relay);
    hostname = configured.hostname;
    const added = await portway(configured.configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    assert.equal(added.code, 0, added.stderr);
    const agent = track(startAgent(configured.configPath));
    await agent.waitFor(/Relay applied the routes/);
  });

  /** SMALL_REQUESTS GETs, 10 at a time; resolves with their sorted latencies (ms). */
  async function smallRequests(): Promise<number[]> {
    const times: number[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next++ < SMALL_REQUESTS) {
        const started = performance.now();
        const answer = await getThrough(relay.port, hostname, '/echo-headers');
        assert.equal(answer.status, 200);
        times.push(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    return times.sort((a, b) => a - b);
  }

  function fastDownload(): Promise<string> {
    return new Promise((resolve, reject) => {
      const hash = createHash('sha256');
      http
        .get({ host: '127.0.0.1', port: relay.port, path: `/big?bytes=${FAST_BYTES}`, headers: { host: hostname }, agent: false }, (res) => {
          res.on('data', (data: Buffer) => hash.update(data));
          res.on('end', () => resolve(hash.digest('hex')));
          res.on('error', reject);
        })
        .on('error', reject);
    });
  }

  it('small requests and a full-speed download are served while the slow reader holds its stream', { timeout: 120_000 }, async () => {
    for (let i = 0; i < 20; i++) await getThrough(relay.port, hostname, '/echo-headers'); // warm up
    const idle = await smallRequests();
    const relayBase = rssKiB(relay.child.pid!);

    // The slow reader: 1 KiB every 100 ms, the socket otherwise paused.
    const slow = net.connect(relay.port, '127.0.0.1');
    slow.pause();
    let slowRead = 0;
    let firstBytes!: () => void;
    const slowStarted = new Promise<void>((resolve) => (firstBytes = resolve));
    const pacer = setInterval(() => {
      const piece = slow.read(1024) as Buffer | null;
      if (piece) {
        slowRead += piece.length;
        firstBytes();
      }
    }, 100);
    cleanups.push(async () => {
      clearInterval(pacer);
      slow.destroy();
    });
    slow.write(`GET /big?bytes=${SLOW_BYTES} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    await slowStarted;

    // What the slow reader costs is measured before the full-speed download, whose own transit
    // buffers would otherwise be counted against it.
    const besideSlow = await smallRequests();
    const relayGrowth = rssKiB(relay.child.pid!) - relayBase;
    const [busy, fastDigest] = await Promise.all([smallRequests(), fastDownload()]);
    assert.equal(fastDigest, patternDigest(FAST_BYTES), 'the full-speed download arrives whole');
    assert.ok(slowRead < SLOW_BYTES / 100, `the slow reader is still reading (${slowRead} bytes)`);
    clearInterval(pacer);
    slow.destroy();
    const idleAfter = await smallRequests();

    const p99 = { idle: Math.max(percentile(idle, 99), percentile(idleAfter, 99)), besideSlow: percentile(besideSlow, 99), busy: percentile(busy, 99) };
    const summary =
      `small-request p50/p99 idle ${percentile(idle, 50).toFixed(1)}/${percentile(idle, 99).toFixed(1)} ms (after: ${percentile(idleAfter, 50).toFixed(1)}/${percentile(idleAfter, 99).toFixed(1)}), ` +
      `beside the slow reader ${percentile(besideSlow, 50).toFixed(1)}/${p99.besideSlow.toFixed(1)} ms, ` +
      `beside it and a download ${percentile(busy, 50).toFixed(1)}/${p99.busy.toFixed(1)} ms; relay RSS +${Math.round(relayGrowth / 1024)} MiB`;
    console.log(`# ${summary}`);
    assert.ok(relayGrowth < RSS_GROWTH_LIMIT_KIB, `relay RSS grew ${relayGrowth} KiB while holding the slow reader`);
    assert.ok(p99.besideSlow <= P99_RATIO_LIMIT * p99.idle, `p99 beside the slow reader is over ${P99_RATIO_LIMIT}x idle: ${summary}`);
    assert.ok(p99.besideSlow < P99_CEILING_MS, `p99 beside the slow reader is over ${P99_CEILING_MS} ms: ${summary}`);
    assert.ok(p99.busy < P99_BUSY_CEILING_MS, `p99 beside the slow reader and a download is over ${P99_BUSY_CEILING_MS} ms: ${summary}`);
  });
});
