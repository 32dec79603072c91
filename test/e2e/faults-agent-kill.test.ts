// The agent SIGKILLed under 20 downloads and 20 uploads in parallel: every visitor gets either
// the whole body (sha256 checked) or an error, never a short or wrong body that looks complete;
// afterwards the relay's descriptors and memory are back at their baseline and a new agent serves.
// 20 MiB per transfer (the issue says 200): enough that every transfer is in flight when the agent
// dies, without minutes of CI time.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { before, describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { patternChunk, patternDigest, startOrigin } from '../helpers/origin';
import { assertBackToBaseline, baselineOf } from '../helpers/process-health';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { getThrough } from '../helpers/relay-health';
import { writeBody } from '../helpers/write-body';

const TRANSFERS = 20;
const BYTES = 20 * 1024 * 1024;
/** The agent dies once this much has moved in all (about a quarter of it). */
const KILL_AFTER_BYTES = (2 * TRANSFERS * BYTES) / 4;
/** Transfers of this size run whole once before the baseline is taken (buffers, JIT, heap). */
const WARM_UP_BYTES = 4 * 1024 * 1024;
const digests = new Map<number, string>();
const digestOf = (bytes: number): string => digests.get(bytes) ?? digests.set(bytes, patternDigest(bytes)).get(bytes)!;

/** How one visitor's transfer ended, as the visitor saw it. */
interface Outcome {
  kind: 'download' | 'upload';
  /** The visitor was told the transfer completed (a complete response with a success status). */
  complete: boolean;
  /** For a complete one: whether its content was right (sha256 and size). */
  intact?: boolean;
  detail: string;
}

describe('agent SIGKILLed under parallel transfers both ways (real processes on loopback)', () => {
  const { track, cleanups } = suiteCleanups();
  let relay: RelayProcess;
  let agent: RunningProcess;
  let configPath: string;
  let hostname: string;
  let moved = 0;
  let onProgress = (): void => undefined;

  before(async () => {
    const origin = track(await startOrigin());
    relay = track(await startRelay());
    ({ configPath, hostname } = await configureAgent(relay));
    const added = await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    assert.equal(added.code, 0, added.stderr);
    agent = startAgent(configPath);
    cleanups.push(() => agent.stop());
    await agent.waitFor(/Relay applied the routes/);
  });

  function progress(bytes: number): void {
    moved += bytes;
    onProgress();
  }

  function download(bytes = BYTES): Promise<Outcome> {
    return new Promise((resolve) => {
      const hash = createHash('sha256');
      let size = 0;
      const req = http.get({ host: '127.0.0.1', port: relay.port, path: `/big?bytes=${bytes}`, headers: { host: hostname }, agent: false }, (res) => {
        res.on('data', (data: Buffer) => {
          hash.update(data);
          size += data.length;
          progress(data.length);
        });
        res.on('error', (err) => resolve({ kind: 'download', complete: false, detail: err.message }));
        res.on('close', () => {
          const complete = res.complete && res.statusCode === 200;
          resolve({ kind: 'download', complete, intact: complete && size === bytes && hash.digest('hex') === digestOf(bytes), detail: `${res.statusCode}, ${size} bytes` });
        });
      });
      req.on('error', (err) => resolve({ kind: 'download', complete: false, detail: err.message }));
    });
  }

  function upload(bytes = BYTES): Promise<Outcome> {
    return new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: relay.port, method: 'POST', path: '/upload', headers: { host: hostname, 'content-length': bytes }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => (body += text));
        res.on('close', () => {
          const complete = res.complete && res.statusCode === 200;
          let intact = false;
          if (complete) {
            const answer = JSON.parse(body) as { size: number; sha256: string };
            intact = answer.size === bytes && answer.sha256 === digestOf(bytes);
          }
          resolve({ kind: 'upload', complete, intact, detail: `${res.statusCode}: ${body.slice(0, 80)}` });
        });
      });
      req.on('error', (err) => resolve({ kind: 'upload', complete: false, detail: err.message }));
      writeBody(req, patternChunk(), bytes, { end: true, onWrite: progress });
    });
  }

  it(`${TRANSFERS} downloads and ${TRANSFERS} uploads of ${BYTES / 1024 / 1024} MiB: each whole or an error`, { timeout: 120_000 }, async () => {
    // The same parallel transfers, smaller and whole, before the baseline: the path works, and the
    // relay's heap has grown to what such traffic needs (that is not what a fault leaves behind).
    const warmUp = await Promise.all([...Array.from({ length: TRANSFERS }, () => download(WARM_UP_BYTES)), ...Array.from({ length: TRANSFERS }, () => upload(WARM_UP_BYTES))]);
    assert.deepEqual(warmUp.filter((o) => !o.intact), [], 'every warm-up transfer arrives whole');
    moved = 0;
    const relayBase = baselineOf('relay', relay.child.pid!);
    const halfway = new Promise<void>((resolve) => {
      onProgress = () => {
        if (moved >= KILL_AFTER_BYTES) resolve();
      };
    });
    const transfers = [...Array.from({ length: TRANSFERS }, download), ...Array.from({ length: TRANSFERS }, upload)];
    await halfway;
    await agent.stop('SIGKILL');
    const outcomes = await Promise.all(transfers);

    const lying = outcomes.filter((o) => o.complete && !o.intact);
    assert.deepEqual(lying, [], 'a transfer looked complete but its content was wrong');
    const cut = outcomes.filter((o) => !o.complete).length;
    assert.ok(cut > 0, 'the kill cut at least one transfer (else it came too late to prove anything)');
    console.log(`# agent killed after ${Math.round(moved / 1024 / 1024)} MiB moved: ${outcomes.length - cut} transfers whole, ${cut} cut with an error`);

    // A new agent serves again; the relay is back to its baseline.
    agent = startAgent(configPath);
    await agent.waitFor(/Relay applied the routes/, 15_000);
    const canary = () => getThrough(relay.port, hostname, '/');
    assert.equal((await canary()).status, 200);
    await assertBackToBaseline(relayBase, canary);
  });
});
