import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { patternDigest } from '../helpers/origin';
import { portway, startAgent, type RunningProcess } from '../helpers/processes';
import { freePortRange, startEchoService } from '../helpers/tcp';
import { startTunnel, type TunnelFixture } from '../helpers/tunnel-fixture';

const DOWNLOAD = 8 * 1024 * 1024;

/** Connects and resolves with 'open' or the error code (ECONNREFUSED once the port stopped listening). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve('open');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Writes `text` and resolves with the same number of bytes read back. */
function echoOnce(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (chunk: Buffer): void => {
      got += chunk.toString();
      if (got.length < text.length) return;
      socket.off('data', onData);
      resolve(got);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(text);
  });
}

/** A download that stops reading after its first bytes until `resume()`; flow control holds the rest. */
function pausedDownload(fx: TunnelFixture): Promise<{ resume(): Promise<{ size: number; sha256: string; complete: boolean }> }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: fx.relay.port, path: `/big?bytes=${DOWNLOAD}`, headers: { host: fx.hostname }, agent: false }, (res) => {
        const hash = createHash('sha256');
        let size = 0;
        res.once('data', (first: Buffer) => {
          res.pause();
          hash.update(first);
          size += first.length;
          resolve({
            resume: () =>
              new Promise((done) => {
                res.on('data', (chunk: Buffer) => {
                  hash.update(chunk);
                  size += chunk.length;
                });
                res.on('end', () => done({ size, sha256: hash.digest('hex'), complete: res.complete }));
                res.on('close', () => done({ size, sha256: '', complete: res.complete }));
                res.on('error', () => undefined);
                res.resume();
              }),
          });
        });
      })
      .on('error', reject);
  });
}

describe('graceful drain on SIGTERM (real relay, agent and origin)', () => {
  it('health says 503, new requests are refused, the download in flight completes, exit 0', async () => {
    const fx = await startTunnel({ relayArgs: ['--drain-timeout-ms', '60000'] });
    try {
      const download = await pausedDownload(fx);
      const from = fx.relay.lines.length;
      fx.relay.child.kill('SIGTERM');
      await fx.relay.waitFor(/draining/, 10_000, from);

      const health = await request(fx.relay.port, 'localhost', { path: '/healthz' });
      assert.equal(health.status, 503);
      assert.match(health.body.toString(), /"status":"draining"/);
      const refused = await request(fx.relay.port, fx.hostname);
      assert.equal(refused.status, 503, 'a new request during the drain is refused');
      assert.equal(refused.headers.connection, 'close');

      const result = await download.resume();
      assert.equal(result.size, DOWNLOAD);
      assert.equal(result.sha256, patternDigest(DOWNLOAD));
      assert.equal(await fx.relay.exited, 0);
      assert.ok(fx.relay.lines.some((line) => /drained \(nothing in flight\)/.test(line)), 'it exited because nothing was in flight, not on the timeout');
      // The agent was told (a GoAway), not left to find out from a dead socket.
      await fx.agent.waitFor(/peer went away \(Normal\)/);
    } finally {
      await fx.stop();
    }
  });

  it('a second SIGTERM ends it at once, download or not', async () => {
    const fx = await startTunnel({ relayArgs: ['--drain-timeout-ms', '60000'] });
    try {
      const download = await pausedDownload(fx);
      const from = fx.relay.lines.length;
      fx.relay.child.kill('SIGTERM');
      await fx.relay.waitFor(/draining/, 10_000, from);
      fx.relay.child.kill('SIGTERM');
      assert.equal(await fx.relay.exited, 0);
      const result = await download.resume();
      assert.equal(result.complete, false, 'the download was cut');
    } finally {
      await fx.stop();
    }
  });

  it('TCP ports and the HTTPS port refuse new connections; a TCP connection in flight goes on, then exit 0', async () => {
    const range = await freePortRange(5);
    const echo = await startEchoService();
    const fx = await startTunnel({ relayArgs: ['--drain-timeout-ms', '60000', '--tcp-ports', range.flag, '--https-port', '0'] });
    let agent: RunningProcess | undefined;
    try {
      const httpsPort = Number((await fx.relay.waitFor(/listening on https:\/\/127\.0\.0\.1:(\d+)/))[1]);
      // Allocated and forwarded while the agent is stopped, then the agent starts with both: a
      // forward changed under a running agent would race its reload against the first connection.
      await fx.agent.stop();
      const allocated = await portway(fx.configPath, ['route', 'tcp', 'allocate']);
      assert.equal(allocated.code, 0, allocated.stderr);
      const port = Number(/^Allocated port (\d+)$/m.exec(allocated.stdout)?.[1]);
      const forward = await portway(fx.configPath, ['route', 'tcp', 'forward', '--port', String(port), '--destination', '127.0.0.1', '--dstport', String(echo.port)]);
      assert.equal(forward.code, 0, forward.stderr);
      const listening = fx.relay.lines.length;
      agent = startAgent(fx.configPath);
      await agent.waitFor(/Relay applied the routes/);
      await fx.relay.waitFor(new RegExp(`tcp port ${port}: listening`), 10_000, listening);
      // Both accept before the drain (so the refusals below are the drain's doing).
      assert.equal(await tryConnect(port), 'open');
      assert.equal(await tryConnect(httpsPort), 'open');
      const inFlight = net.connect(port, '127.0.0.1');
      assert.equal(await echoOnce(inFlight, 'before'), 'before');

      const from = fx.relay.lines.length;
      fx.relay.child.kill('SIGTERM');
      await fx.relay.waitFor(/tcp port \d+: draining/, 10_000, from);
      assert.equal(await tryConnect(port), 'ECONNREFUSED', 'a new connection to the TCP port during the drain');
      assert.equal(await tryConnect(httpsPort), 'ECONNREFUSED', 'a new connection to the HTTPS port during the drain');
      assert.equal(await echoOnce(inFlight, 'during the drain'), 'during the drain', 'the connection accepted before goes on');

      inFlight.end(); // the last stream in flight: the drain completes
      assert.equal(await fx.relay.exited, 0);
      assert.ok(fx.relay.lines.some((line) => /drained \(nothing in flight\)/.test(line)), 'it exited because nothing was in flight, not on the timeout');
    } finally {
      await agent?.stop();
      await fx.stop();
      await echo.close();
    }
  });

  it('the drain timeout ends a drain that does not finish', async () => {
    const fx = await startTunnel({ relayArgs: ['--drain-timeout-ms', '300'] });
    try {
      const download = await pausedDownload(fx);
      fx.relay.child.kill('SIGTERM');
      assert.equal(await fx.relay.exited, 0);
      assert.ok(fx.relay.lines.some((line) => /drained \(drain timeout reached\)/.test(line)));
      assert.equal((await download.resume()).complete, false);
    } finally {
      await fx.stop();
    }
  });
});
