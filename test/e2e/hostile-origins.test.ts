// Hostile and failing origins behind a real tunnel (relay, agent and origin processes on loopback):
// a visitor must see an error exactly where a direct connection to the origin shows one, and the
// relay's descriptors and memory must come back to their baseline afterwards.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl';
import { startHostileOrigin, startHostileOriginTunnel, type HostileOrigin, type HostileOriginTunnel } from '../helpers/hostile-origin';
import { openFdCount } from '../helpers/process-health';
import { configureAgent, portway, startAgent, startRelay, tempDir, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { rawExchange, type RawResponse } from '../helpers/raw-http';
import { makeCa, makeLeaf, type TestCertificate } from '../helpers/test-certs';
import { checkNameLikeABrowser } from '../helpers/tls-client';

/** curl's exit code for "connection reset while receiving". */
const CURL_RECV_ERROR = 56;
const BODY_BYTES = 256 * 1024;

describe('a close-delimited body cut by a failure is never delivered as complete', () => {
  let fx: HostileOriginTunnel;
  before(async () => (fx = await startHostileOriginTunnel()));
  after(async () => fx?.stop());

  it('passes an origin reset on as a reset (curl exits 56, as direct)', async () => {
    const path = `/cut?bytes=${BODY_BYTES}`;
    const direct = await curl(fx.direct(path));
    const tunneled = await curl(fx.viaRelay(path), { host: fx.hostname });
    assert.equal(direct.code, CURL_RECV_ERROR, 'direct to the origin');
    assert.equal(tunneled.code, direct.code, `through the tunnel: got ${tunneled.bytes} bytes, status ${tunneled.status}`);
    await fx.relayBackToBaseline();
  });

  it('refuses a 101 nobody asked for (502): nothing after it crosses to the origin', { timeout: 20_000 }, async () => {
    const seen = fx.origin.hosts.length;
    const answer = await rawExchange(
      fx.relay.port,
      `GET /upgrade-anyway HTTP/1.1\r\nHost: ${fx.hostname}\r\n\r\n` +
        // A pooling front proxy's next request on the same connection, for another tenant.
        `GET /after HTTP/1.1\r\nHost: bravo.${fx.hostname}\r\nAuthorization: Bearer bravo-secret\r\n\r\n`,
    );
    assert.equal(answer.status, 502, answer.text.slice(0, 200));
    assert.ok(!answer.text.includes('101 Switching'), 'no switch reached the visitor');
    assert.equal(fx.origin.hosts.length - seen, 1, `the origin saw only the first request: ${fx.origin.hosts.slice(seen).join(', ')}`);
    await fx.relayBackToBaseline();
  });

  it('resets the visitor when the agent is killed mid-body', async () => {
    const cut = curl(fx.viaRelay(`/hold?bytes=${BODY_BYTES}`), { host: fx.hostname, onBody: () => void fx.agent.stop('SIGKILL') });
    const result = await cut;
    assert.ok(result.bytes > 0, 'the body had started');
    assert.equal(result.code, CURL_RECV_ERROR, `got ${result.bytes} bytes, status ${result.status}`);
    await fx.restartAgent();
    await fx.relayBackToBaseline();
  });

  it('resets the visitor when the relay stops (SIGTERM) mid-body', async () => {
    const holding = once(fx.origin.events, 'holding');
    const result = await curl(fx.viaRelay(`/hold?bytes=${BODY_BYTES}`), { host: fx.hostname, onBody: () => void holding.then(() => fx.relay.stop('SIGTERM')) });
    assert.ok(result.bytes > 0, 'the body had started');
    assert.equal(result.code, CURL_RECV_ERROR, `got ${result.bytes} bytes, status ${result.status}`);
  });
});

describe('no visitor socket is held after its last answer', () => {
  const IDLE_TIMEOUT_MS = 1000;
  let fx: HostileOriginTunnel;
  // Debug logging: the relay says when it released a visitor connection after its last answer.
  before(async () => (fx = await startHostileOriginTunnel({ relayArgs: ['--idle-timeout-ms', String(IDLE_TIMEOUT_MS), '--log-level', 'debug'] })));
  after(async () => fx?.stop());

  /**
   * Declares a 10 MB upload, sends 1 MiB of it, then neither sends nor closes its side (a
   * half-open client, like curl still uploading). Resolves with the answer once the relay ended
   * its side; the client's socket stays open, so only the relay can release its own.
   */
  function stalledUpload(path: string): Promise<RawResponse & { socket: net.Socket }> {
    const head = `POST ${path} HTTP/1.1\r\nHost: ${fx.hostname}\r\nContent-Length: ${10_000_000}\r\n\r\n`;
    return new Promise((resolve) => {
      const socket = net.connect({ port: fx.relay.port, host: '127.0.0.1', allowHalfOpen: true }, () =>
        socket.write(Buffer.concat([Buffer.from(head), Buffer.alloc(1024 * 1024, 'u')])),
      );
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', () => undefined);
      socket.on('end', () => {
        const text = Buffer.concat(chunks).toString('latin1');
        resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text, socket });
      });
    });
  }

  /**
   * The relay released the visitor's connection by itself (its debug line after output line `from`:
   * the visitor here never closes its side, so the linger ran out) and then holds no
   * more descriptors than `before`. Nothing else connects in between: a canary's own connection
   * would still be open when the count is read.
   */
  async function relayReleased(before: number, from: number): Promise<void> {
    // Canaries' connections, which close their side, say "(visitor closed)", maybe after `from`.
    await fx.relay.waitFor(/visitor connection released after its last answer \(linger ended\)/, 5 * IDLE_TIMEOUT_MS, from);
    const pid = fx.relay.child.pid!;
    assert.ok(openFdCount(pid) <= before, `relay holds ${openFdCount(pid)} descriptors, ${before} before the upload`);
  }

  it('answers an upload the origin refuses early, then closes it (as direct)', { timeout: 60_000 }, async () => {
    // Direct, a client that closes its side when the origin does (rawExchange) sees the 413.
    const direct = await rawExchange(fx.origin.port, `POST /early-413 HTTP/1.1\r\nHost: o\r\nContent-Length: 10000000\r\n\r\n${'u'.repeat(65536)}`);
    assert.equal(direct.status, 413, 'direct');
    // The origin's reset used to overtake its 413 at the agent in a third of tries (a write to the
    // closed origin failed before its answer was read): several tries, each must see the 413.
    for (let attempt = 1; attempt <= 5; attempt++) {
      const before = openFdCount(fx.relay.child.pid!);
      const from = fx.relay.lines.length;
      const tunneled = await stalledUpload('/early-413');
      assert.equal(tunneled.status, 413, `try ${attempt} through the tunnel: ${tunneled.text.slice(0, 120)}`);
      await relayReleased(before, from);
      tunneled.socket.destroy();
    }
    await fx.relayBackToBaseline();
  });

  it("answers the early refusal on the relay's full path too (an absolute-form target: the agent's undici proxy)", { timeout: 60_000 }, async () => {
    // undici failed the request on its write's EPIPE before reading the 413: a 502 every time.
    for (let attempt = 1; attempt <= 5; attempt++) {
      const tunneled = await stalledUpload(`http://${fx.hostname}/early-413`);
      assert.equal(tunneled.status, 413, `try ${attempt} through the tunnel: ${tunneled.text.slice(0, 300)}`);
      tunneled.socket.destroy();
    }
    await fx.relayBackToBaseline();
  });

  it('closes a connection whose visitor never closes its side after the last answer (Connection: close, a refused upgrade)', { timeout: 30_000 }, async () => {
    const lastRequests = {
      'Connection: close': `GET / HTTP/1.1\r\nHost: ${fx.hostname}\r\nConnection: close\r\n\r\n`,
      'refused upgrade': `GET / HTTP/1.1\r\nHost: nobody.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    };
    for (const [name, request] of Object.entries(lastRequests)) {
      const before = openFdCount(fx.relay.child.pid!);
      const from = fx.relay.lines.length;
      // Half-open: the visitor reads the answer and the relay's end, and never ends its own side.
      const socket = net.connect({ port: fx.relay.port, host: '127.0.0.1', allowHalfOpen: true }, () => socket.write(request));
      socket.on('error', () => undefined);
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      await once(socket, 'end');
      assert.match(text, /^HTTP\/1\.1 (200|404) /, `${name}: ${text.slice(0, 120)}`);
      await relayReleased(before, from);
      socket.destroy();
    }
    await fx.relayBackToBaseline();
  });

  it('answers 502 and closes an upload whose agent died, though the visitor never finishes it', { timeout: 20_000 }, async () => {
    const before = openFdCount(fx.relay.child.pid!);
    const from = fx.relay.lines.length;
    const waiting = once(fx.origin.events, 'waiting');
    const upload = stalledUpload('/never');
    await waiting;
    await fx.agent.stop('SIGKILL');
    const answer = await upload;
    assert.equal(answer.status, 502, answer.text.slice(0, 120));
    await relayReleased(before - 1, from); // the killed agent's WebSocket is gone too
    answer.socket.destroy();
    await fx.restartAgent();
    await fx.relayBackToBaseline();
  });
});

describe('an early refusal reaches a visitor whose TLS ends at the agent', () => {
  let dir: string;
  let ca: TestCertificate;
  let origin: HostileOrigin;
  let relay: RelayProcess;
  let agent: RunningProcess;
  let hostname: string;

  before(async () => {
    dir = tempDir('portway-e2e-tls-413-');
    ca = makeCa(dir);
    origin = await startHostileOrigin();
    relay = await startRelay({ httpsPort: 0 });
    let configPath: string;
    ({ configPath, hostname } = await configureAgent(relay));
    const cert = makeLeaf(dir, ca, 'route', [hostname]);
    const added = await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port), '--ca', cert.certPath, '--key', cert.keyPath]);
    assert.equal(added.code, 0, added.stderr);
    agent = startAgent(configPath);
    await agent.waitFor(/Relay applied the routes/);
  });

  after(async () => {
    await agent?.stop();
    await relay?.stop();
    await origin?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A TLS visitor declares a 10 MB upload, sends 1 MiB, then waits: resolves with the answer once the far side ended. */
  function stalledTlsUpload(): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: relay.httpsPort!, servername: hostname, ca: ca.certPem, checkServerIdentity: checkNameLikeABrowser }, () => {
        socket.write(`POST /early-413 HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: ${10_000_000}\r\n\r\n`);
        socket.write(Buffer.alloc(1024 * 1024, 'u'));
      });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (err) => (chunks.length > 0 ? undefined : reject(err)));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.on('end', () => socket.destroy());
    });
  }

  it("answers the origin's 413 (the agent's undici proxy reads on after its write fails)", { timeout: 60_000 }, async () => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const answer = await stalledTlsUpload();
      assert.match(answer, /^HTTP\/1\.1 413 /, `try ${attempt} through the tunnel: ${answer.slice(0, 300)}`);
    }
  });
});
