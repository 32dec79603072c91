// The relay SIGKILLed in the middle of a transfer: the visitor gets an error, never a body that
// looks complete; the origin never sees an upload end as if it were whole; once the relay is back
// the agent serves again, with its descriptors and memory back at their baseline.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import { suiteCleanups } from '../helpers/cleanups';
import { patternChunk } from '../helpers/origin';
import { assertBackToBaseline, baselineOf, type ProcessBaseline } from '../helpers/process-health';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { getThrough } from '../helpers/relay-health';
import { writeBody } from '../helpers/write-body';

/** Announced size of the transfers; only a few MiB of it ever moves before the kill. */
const TOTAL = 64 * 1024 * 1024;
const SENT_BEFORE_HOLD = 4 * 1024 * 1024;
const CANARY = 'canary ok';

type UploadOutcome = 'complete' | 'cut';

/** An origin whose download sends a part and then holds, and which reports how each upload ended. */
async function startFaultOrigin() {
  let downloadHeld!: () => void;
  const downloadIsHeld = new Promise<void>((resolve) => (downloadHeld = resolve));
  let uploadArrived!: () => void;
  const uploadHasArrived = new Promise<void>((resolve) => (uploadArrived = resolve));
  let uploadEnded!: (outcome: UploadOutcome) => void;
  const uploadOutcome = new Promise<UploadOutcome>((resolve) => (uploadEnded = resolve));
  const chunk = patternChunk();
  const server = http.createServer((req, res) => {
    if (req.url === '/download') {
      res.writeHead(200, { 'content-length': TOTAL });
      for (let sent = 0; sent < SENT_BEFORE_HOLD; sent += chunk.length) res.write(chunk);
      downloadHeld(); // and never more: the relay dies first
      return;
    }
    if (req.url === '/upload') {
      let received = 0;
      req.on('data', (data: Buffer) => {
        received += data.length;
        if (received >= 1024 * 1024) uploadArrived();
      });
      req.on('end', () => uploadEnded('complete'));
      req.on('close', () => {
        if (!req.complete) uploadEnded('cut');
      });
      return;
    }
    res.end(CANARY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    downloadIsHeld,
    uploadHasArrived,
    uploadOutcome,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** How a visitor's exchange ended: bytes of body seen, whether the body was complete, the error if any. */
interface VisitorEnd {
  bytes: number;
  complete: boolean;
  error?: string;
}

function download(port: number, host: string, onFirstBytes: () => void): Promise<VisitorEnd> {
  return new Promise((resolve) => {
    let bytes = 0;
    const req = http.get({ host: '127.0.0.1', port, path: '/download', headers: { host }, agent: false }, (res) => {
      res.on('data', (data: Buffer) => {
        if (bytes === 0) onFirstBytes();
        bytes += data.length;
      });
      res.on('error', (err) => resolve({ bytes, complete: false, error: err.message }));
      res.on('close', () => resolve({ bytes, complete: res.complete }));
    });
    req.on('error', (err) => resolve({ bytes, complete: false, error: err.message }));
  });
}

/** Sends SENT_BEFORE_HOLD of an announced TOTAL, then holds; resolves when the exchange ends. */
function upload(port: number, host: string): Promise<VisitorEnd> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { host, 'content-length': TOTAL }, agent: false }, (res) => {
      res.resume();
      res.on('close', () => resolve({ bytes: 0, complete: res.complete && res.statusCode === 200, error: `answered ${res.statusCode}` }));
    });
    req.on('error', (err) => resolve({ bytes: 0, complete: false, error: err.message }));
    writeBody(req, patternChunk(), SENT_BEFORE_HOLD); // and never the rest: the relay dies first
  });
}

describe('relay SIGKILLed mid-transfer (real processes on loopback)', () => {
  const { track, cleanups } = suiteCleanups();
  let origin: Awaited<ReturnType<typeof startFaultOrigin>>;
  let relay: RelayProcess;
  let agent: RunningProcess;
  let hostname: string;
  let agentBase: ProcessBaseline;

  before(async () => {
    origin = track(await startFaultOrigin());
    relay = await startRelay();
    cleanups.push(() => relay.stop());
    const configured = await configureAgent(relay);
    hostname = configured.hostname;
    const added = await portway(configured.configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    assert.equal(added.code, 0, added.stderr);
    agent = track(startAgent(configured.configPath));
    await agent.waitFor(/Relay applied the routes/);
    for (let i = 0; i < 20; i++) assert.equal((await getThrough(relay.port, hostname, '/')).body, CANARY); // warm up
    agentBase = baselineOf('agent', agent.child.pid!);
  });

  /** Kills the relay, starts it again on the same port and data dir, waits for the agent to be back. */
  async function killAndRestartRelay(): Promise<void> {
    const { dataDir, port } = relay;
    const from = agent.lines.length;
    await relay.stop('SIGKILL');
    await agent.waitFor(/Disconnected: /, 15_000, from);
    relay = await startRelay({ dataDir, port });
    await agent.waitFor(/Relay applied the routes/, 15_000, from);
  }

  async function assertAgentRecovered(): Promise<void> {
    const canary = () => getThrough(relay.port, hostname, '/');
    const answer = await canary();
    assert.equal(answer.status, 200);
    assert.equal(answer.body, CANARY);
    await assertBackToBaseline(agentBase, canary);
  }

  it('mid-download: the visitor gets an error or a short body, never a complete one', async () => {
    let firstBytes!: () => void;
    const receiving = new Promise<void>((resolve) => (firstBytes = resolve));
    const visitor = download(relay.port, hostname, firstBytes);
    await Promise.all([origin.downloadIsHeld, receiving]);
    await killAndRestartRelay();
    const end = await visitor;
    assert.equal(end.complete, false, `the visitor saw ${end.bytes} bytes as a complete body`);
    assert.ok(end.bytes > 0 && end.bytes < TOTAL, `${end.bytes} bytes`);
    await assertAgentRecovered();
  });

  it('mid-upload: the visitor gets an error; the origin sees the upload cut, never whole', async () => {
    const visitor = upload(relay.port, hostname);
    await origin.uploadHasArrived;
    await killAndRestartRelay();
    const end = await visitor;
    assert.equal(end.complete, false, 'the visitor was told the upload succeeded');
    assert.equal(await origin.uploadOutcome, 'cut');
    await assertAgentRecovered();
  });
});
