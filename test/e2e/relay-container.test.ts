/**
 * The relay's container image (relay/Dockerfile), built and run for real with podman on a local
 * Debian base (scripts/container-base.sh: no Docker engine, no registry). Everything stays on
 * loopback: host networking with the relay bound to 127.0.0.1.
 *
 * Never skipped: when podman cannot be installed or the base image cannot be built, this fails
 * and says why. Cold (packages and base image to make) about 2-3 minutes; warm well under a minute.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { configureAgent, portway, ROOT, RunningProcess, startAgent, tempDir } from '../helpers/processes';

const BASE_IMAGE = 'localhost/debian-node:bookworm';
const BASE_SCRIPT = path.join(ROOT, 'scripts', 'container-base.sh');
const RELAY_DIR = path.join(ROOT, 'relay');
const RUN_ID = `${process.pid}-${randomBytes(3).toString('hex')}`;
const IMAGE = `localhost/portway-relay-test:${RUN_ID}`;
const VOLUME = `portway-relay-test-data-${RUN_ID}`;

/** CONTAINERS_CONF and CONTAINERS_STORAGE_CONF, as printed by the base script. */
const containerEnv: Record<string, string> = {};

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs scripts/container-base.sh; its stdout is `export NAME=value` lines. */
function runBaseScript(timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BASE_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
      if (process.env.PORTWAY_TEST_VERBOSE) process.stderr.write(c);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (err) => reject(new Error(`cannot run ${BASE_SCRIPT}: ${err.message}`)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        const why = signal ? `killed by ${signal} after ${timeoutMs / 1000} s` : `exit ${code}`;
        return reject(new Error(`scripts/container-base.sh failed (${why}). The relay container test needs podman, runc and debootstrap (apt-get install -y podman runc debootstrap, as root) and the local base image ${BASE_IMAGE}:\n${tail(stderr)}`));
      }
      for (const line of stdout.split('\n')) {
        const m = /^export (CONTAINERS_[A-Z_]+)=(.+)$/.exec(line.trim());
        if (m) containerEnv[m[1]] = m[2];
      }
      if (!containerEnv.CONTAINERS_CONF || !containerEnv.CONTAINERS_STORAGE_CONF) return reject(new Error(`scripts/container-base.sh printed no CONTAINERS_CONF / CONTAINERS_STORAGE_CONF:\n${stdout}`));
      resolve();
    });
  });
}

function podmanEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...containerEnv };
}

/** One podman command to completion; rejects with its stderr. */
function podman(args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('podman', args, { env: podmanEnv(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`podman ${args.join(' ')} failed: ${error.message}\n${tail(stderr)}`));
      else resolve(stdout);
    });
  });
}

/** A port free on 127.0.0.1 (the container uses the host's network, so it binds this very port). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls GET /_portway/health on the apex until it answers 200, within a deadline. */
async function waitForHealth(port: number, timeoutMs = 15_000): Promise<{ status: string; domain: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await request(port, 'localhost', { path: '/_portway/health' });
      if (res.status === 200) return JSON.parse(res.body.toString());
      last = `${res.status} ${res.body.toString().slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`health endpoint on 127.0.0.1:${port} did not answer 200 within ${timeoutMs} ms; last: ${last}`);
}

interface RelayContainer extends RunningProcess {
  name: string;
}

/** Every container this run started, removed at the end whatever happened. */
const containers: RelayContainer[] = [];

/**
 * `podman run` in the foreground (its output is the relay's), host networking, the relay bound to
 * 127.0.0.1:port, the data volume mounted. Resolves once the listening line and the health endpoint say so.
 */
async function runRelayContainer(port: number): Promise<RelayContainer> {
  const name = `portway-relay-test-${RUN_ID}-${randomBytes(2).toString('hex')}`;
  const args = ['run', '--rm', '--name', name, '--network', 'host', '-e', 'HOST=127.0.0.1', '-e', `PORT=${port}`, '-e', 'DOMAIN=localhost', '-v', `${VOLUME}:/data`, IMAGE];
  const proc = new RunningProcess(spawn('podman', args, { env: podmanEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  const container = Object.assign(proc, { name });
  containers.push(container);
  const [, listeningPort] = await Promise.race([
    proc.waitFor(/portway-relay listening on http:\/\/127\.0\.0\.1:(\d+)/, 60_000),
    proc.exited.then((code) => {
      throw new Error(`the relay container exited with ${code} before listening:\n${proc.lines.join('\n')}`);
    }),
  ]);
  assert.equal(Number(listeningPort), port);
  await waitForHealth(port);
  return container;
}

async function stopRelayContainer(container: RelayContainer): Promise<void> {
  if (container.child.exitCode !== null || container.child.signalCode !== null) return;
  await podman(['stop', '--ignore', '-t', '5', container.name]);
  await container.exited;
}


describe('relay container image (podman, local Debian base with Node 18)', { timeout: 300_000 }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  const timings: string[] = [];
  let port = 0;
  let origin: TestOrigin;
  let container: RelayContainer;
  let agentConfig: { configPath: string; hostname: string };

  before(async () => {
    assert.ok(fs.existsSync(path.join(RELAY_DIR, 'dist', 'relay.js')), 'relay/dist/relay.js is missing: run `node esbuild.js` first');
    let started = Date.now();
    await runBaseScript(270_000);
    timings.push(`base script ${((Date.now() - started) / 1000).toFixed(1)} s`);
    started = Date.now();
    // --layers=false: only the final image is stored, so removing it at the end leaves nothing behind.
    // --format docker: podman's own (OCI) format drops the Dockerfile's HEALTHCHECK.
    await podman(['build', '--format', 'docker', '--network', 'host', '--pull=never', '--layers=false', '--build-arg', `BASE=${BASE_IMAGE}`, '-t', IMAGE, '-f', path.join(RELAY_DIR, 'Dockerfile'), RELAY_DIR], 180_000);
    timings.push(`image build ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    // Containers, then the volume and the image this run made. The base image stays cached.
    for (const c of containers) {
      await podman(['rm', '--force', '--ignore', '-t', '2', c.name]).catch(() => undefined);
      await c.stop('SIGKILL');
    }
    if (containerEnv.CONTAINERS_CONF) {
      await podman(['volume', 'rm', '--force', VOLUME]).catch(() => undefined);
      await podman(['rmi', '--force', IMAGE]).catch(() => undefined);
    }
  });

  it("runs the bundled relay on the base image's Node, as uid 1000, and answers health on the apex", async (t) => {
    t.diagnostic(timings.join('; '));
    port = await freeLoopbackPort();
    const started = Date.now();
    container = await runRelayContainer(port);
    t.diagnostic(`container up and healthy ${Date.now() - started} ms after podman run`);

    const health = await waitForHealth(port);
    assert.equal(health.status, 'ok');
    assert.equal(health.domain, 'localhost');

    const nodeVersion = (await podman(['exec', container.name, 'node', '--version'])).trim();
    const engines = JSON.parse(fs.readFileSync(path.join(RELAY_DIR, 'package.json'), 'utf8')).engines.node as string;
    const minimum = Number(/>=\s*(\d+)/.exec(engines)?.[1]);
    assert.ok(Number(/^v(\d+)\./.exec(nodeVersion)?.[1]) >= minimum, `container node ${nodeVersion} vs engines ${engines}`);
    t.diagnostic(`container node ${nodeVersion} (relay engines ${engines})`);
    assert.equal((await podman(['exec', container.name, 'id', '-u'])).trim(), '1000', 'the relay does not run as root');
    assert.equal((await podman(['exec', container.name, 'stat', '-c', '%u %a', '/data'])).trim(), '1000 700', 'the data volume belongs to the relay user, private');
    const bytes = Number((await podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE])).trim());
    t.diagnostic(`image size ${(bytes / 1024 / 1024).toFixed(1)} MiB (base ${BASE_IMAGE} included)`);
  });

  it("the image's HEALTHCHECK passes on a healthy relay", async () => {
    assert.ok(container, 'the container did not start');
    const configured = (await podman(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', IMAGE])).trim();
    assert.match(configured, /bin\/healthcheck\.js/, 'the built image kept the HEALTHCHECK');
    // podman exits 0 when the check passes, 1 ("unhealthy") when it fails: podman() rejects then.
    await podman(['healthcheck', 'run', container.name]);
  });

  it('a real agent connects to the container and a request through the tunnel reaches a local origin', async () => {
    assert.ok(container, 'the container did not start');
    origin = await startOrigin();
    cleanups.push(() => origin.close());
    agentConfig = await configureAgent({ url: `http://127.0.0.1:${port}` });
    const { configPath, hostname } = agentConfig;
    assert.match(hostname, /\.localhost$/);
    const added = await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    assert.equal(added.code, 0, added.stderr + added.stdout);

    const agent = startAgent(configPath);
    cleanups.push(() => agent.stop());
    const [, connectedAs] = await agent.waitFor(/Connected to .* as (\S+)/, 20_000);
    assert.equal(connectedAs, hostname);
    const res = await request(port, hostname, { path: '/through-the-container' });
    assert.equal(res.status, 200, res.body.toString().slice(0, 300));
    assert.equal(res.body.toString(), 'hello from origin /through-the-container');
    await agent.stop();
  });

  it('keeps hostnames in the data volume: after the container is replaced the agent gets its name back', async (t) => {
    assert.ok(agentConfig, 'no agent was configured');
    const { configPath, hostname } = agentConfig;
    let started = Date.now();
    const from = container.lines.length;
    await stopRelayContainer(container);
    t.diagnostic(`container stopped in ${Date.now() - started} ms`);
    // podman stop sends SIGTERM: the relay drains and exits 0 (podman run passes its code on).
    assert.equal(await container.exited, 0, `the relay container's exit code:\n${container.lines.slice(from).join('\n')}`);
    assert.ok(container.lines.slice(from).some((line) => /SIGTERM: draining/.test(line)), 'the relay drained on podman stop');
    started = Date.now();
    container = await runRelayContainer(port); // a new container, the same volume
    t.diagnostic(`replacement container healthy in ${Date.now() - started} ms`);

    // The owner is offline, so only the volume can tell the new relay that this name is taken.
    const label = hostname.replace(/\.localhost$/, '');
    const other = await portway(path.join(tempDir('portway-agent-'), 'config.json'), ['configure', '--relay', `http://127.0.0.1:${port}`, '--hostname', label]);
    assert.notEqual(other.code, 0, `a second agent got ${label}: ${other.stdout}`);
    assert.match(other.stderr, /taken/);

    const agent = startAgent(configPath);
    cleanups.push(() => agent.stop());
    const [, connectedAs] = await agent.waitFor(/Connected to .* as (\S+)/, 20_000);
    assert.equal(connectedAs, hostname);
    const res = await request(port, hostname, { path: '/after-restart' });
    assert.equal(res.status, 200, res.body.toString().slice(0, 300));
    assert.equal(res.body.toString(), 'hello from origin /after-restart');
  });
});
