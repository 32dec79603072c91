/**
 * Runs inside the VS Code extension host (see extension-host.test.ts): the activated extension,
 * its real agent process, a real relay started here, and the restart budget.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { PortwayApi } from '../../../extension/src/extension';
import { errorCode } from '../../../extension/src/errors';
import { Command, Setting } from '../../../extension/src/ids';
import { describeConnection, formatBytes } from '../../../extension/src/views/connections-model';
import { RouteAddRequest, RpcErrorCode, TunnelStatusRequest, type TunnelStatus } from '../../../protocol/rpc';

const EXTENSION_ID = 'portway.portway';
const AUTH_KEY = 'in-host-suite-key-'.padEnd(40, 'y');

function waitFor<T>(event: vscode.Event<T>, predicate: (value: T) => boolean = () => true, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error('timed out waiting for an event'));
    }, timeoutMs);
    const sub = event((value) => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(value);
    });
  });
}

async function startRelay(extensionPath: string): Promise<{ child: ChildProcess; url: string; port: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portway-suite-relay-'));
  const child = spawn(process.execPath, [path.join(extensionPath, 'relay', 'bin', 'portway-relay.js'), '--domain', 'localhost', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--auth-key', AUTH_KEY], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`relay exited (${code}): ${out}`)));
  });
  return { child, port, url: `http://127.0.0.1:${port}` };
}

/** Resolves once `ready()` holds, checking now and after each `event`. */
function until<T>(event: vscode.Event<T>, ready: () => boolean): Promise<void> {
  return ready() ? Promise.resolve() : waitFor(event, ready).then(() => undefined);
}

/** A download through the relay whose body the test feeds chunk by chunk (origin's /stream). */
function download(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/stream', headers: { host }, agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
}

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      // agent: false — one connection per request, so the Connections view sees it open and close.
      .get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('Portway in the extension host', () => {
  let api: PortwayApi;
  let extension: vscode.Extension<PortwayApi>;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let origin: http.Server;
  let originPort: number;
  /** Waiting for the next /stream request: its response is fed and ended by the test. */
  const streamWaiters: ((res: http.ServerResponse) => void)[] = [];

  before(async () => {
    const found = vscode.extensions.getExtension<PortwayApi>(EXTENSION_ID);
    assert.ok(found, `${EXTENSION_ID} is installed`);
    extension = found;
    api = await extension.activate();
    relay = await startRelay(extension.extensionPath);
    origin = http.createServer((req, res) => {
      if (req.url !== '/stream') return void res.end('origin says hi');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(64 * 1024));
      streamWaiters.shift()?.(res);
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originPort = (origin.address() as AddressInfo).port;
  });

  after(() => {
    relay?.child.kill();
    origin?.close();
  });

  it('activates, registers every command and runs the bundled agent', async () => {
    assert.equal(extension.isActive, true);
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of Object.values(Command)) assert.ok(registered.has(id), `${id} is registered`);
    const session = await api.client.ready();
    assert.ok(session.pid > 0);
    const cmdline = fs.readFileSync(`/proc/${session.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.some((a) => a.endsWith(path.join('dist', 'portway.js'))), cmdline.join(' '));
    assert.ok(cmdline.includes('rpc'));
  });

  it('starts unconfigured, and refuses a wrong token with a coded error', async () => {
    await api.session.refresh();
    assert.equal(api.session.status.configured, false);
    await assert.rejects(api.session.configureRelay(relay.url, 'not-the-key'), (err: unknown) => errorCode(err) === RpcErrorCode.Unauthorized);
    assert.equal(api.session.status.configured, false);
    assert.equal(vscode.workspace.getConfiguration(Setting.Section).get(Setting.RelayUrl), '', 'nothing saved after a refusal');
  });

  it('configures the relay: URL in settings, token not in settings', async () => {
    const status = await api.session.configureRelay(relay.url, AUTH_KEY);
    assert.equal(status.configured, true);
    assert.match(status.hostname ?? '', /\.localhost$/);
    const config = vscode.workspace.getConfiguration(Setting.Section);
    assert.equal(config.get(Setting.RelayUrl), relay.url);
    const inspected = JSON.stringify(config);
    assert.ok(!inspected.includes(AUTH_KEY), 'the token is not in the settings');
  });

  it('shares a port: route in the session, tunnel online, traffic shows as a connection', async () => {
    const route = await api.client.request(RouteAddRequest.type, { httpPort: originPort });
    await api.session.refreshRoutes();
    assert.deepEqual(api.session.routes.http.map((r) => r.domain), [route.domain]);
    const status = await api.session.start();
    assert.equal(status.state, 'online');
    const seen = waitFor(api.session.onDidChangeConnections, () => api.session.connections.entries().some((c) => c.closedAt !== undefined));
    const res = await get(relay.port, route.domain);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'origin says hi');
    await seen;
    const [entry] = api.session.connections.entries();
    assert.equal(entry.clientAddress, '127.0.0.1');
    assert.deepEqual(entry.route, { kind: 'http', domain: route.domain });
    assert.ok(entry.bytesOut > 0);
  });

  it('shows a long download growing in the Connections view while it is open', async () => {
    const hostname = api.session.status.hostname!;
    const { connections } = api.session;
    const openEntry = () => connections.entries().find((c) => c.closedAt === undefined && c.route.kind === 'http');
    const arrived = new Promise<http.ServerResponse>((resolve) => streamWaiters.push(resolve));
    const done = download(relay.port, hostname);
    const stream = await arrived;
    await until(api.session.onDidChangeConnections, () => openEntry() !== undefined);
    const entry = openEntry()!;
    // Live reports only name the rows that changed, and update the very entry the tree shows.
    const refreshed: unknown[][] = [];
    const sub = api.session.onDidUpdateConnectionBytes((changed) => refreshed.push(changed));
    await until(api.session.onDidUpdateConnectionBytes, () => entry.bytesOut >= 64 * 1024);
    const first = entry.bytesOut;
    assert.equal(entry.closedAt, undefined, 'counted while open');
    stream.write(Buffer.alloc(512 * 1024));
    await until(api.session.onDidUpdateConnectionBytes, () => entry.bytesOut >= first + 512 * 1024);
    assert.equal(entry.closedAt, undefined);
    assert.ok(describeConnection(entry).description.endsWith(`↑${formatBytes(entry.bytesOut)}`), describeConnection(entry).description);
    sub.dispose();
    assert.ok(refreshed.length > 0 && refreshed.every((changed) => changed.length === 1 && changed[0] === entry), 'only the changed row');
    stream.end();
    await done;
    await until(api.session.onDidChangeConnections, () => connections.openCount === 0);
  });

  it('restarts a crashed agent and resumes sharing; gives up after 5 crashes in 3 minutes; Restart Agent recovers', async () => {
    const hostname = api.session.status.hostname!;
    for (let crash = 1; crash <= 4; crash++) {
      const pid = api.client.pid!;
      const restarted = waitFor(api.client.onDidStart);
      process.kill(pid, 'SIGKILL');
      const next = await restarted;
      assert.notEqual(next.pid, pid, `crash ${crash}: a new agent`);
    }
    await waitFor(api.session.onDidChangeStatus, (s: TunnelStatus) => s.state === 'online');
    assert.equal((await get(relay.port, hostname)).status, 200, 'the tunnel resumed after the restarts');

    const gaveUp = waitFor(api.client.onDidGiveUp);
    process.kill(api.client.pid!, 'SIGKILL');
    assert.equal(await gaveUp, 5);
    assert.equal(api.client.hasGivenUp, true);
    assert.equal(api.client.running, false);

    const back = waitFor(api.session.onDidChangeStatus, (s: TunnelStatus) => s.state === 'online');
    await vscode.commands.executeCommand(Command.RestartAgent);
    await back;
    assert.equal(api.client.hasGivenUp, false);
    assert.equal((await get(relay.port, hostname)).status, 200);
  });

  it('Stop Sharing stops the tunnel; the relay then answers 502', async () => {
    const hostname = api.session.status.hostname!;
    await vscode.commands.executeCommand(Command.StopSharing);
    assert.equal(api.session.status.state, 'stopped');
    assert.equal((await get(relay.port, hostname)).status, 502);
  });

  it('Configure Relay with another spelling of the same relay keeps the session: no reconnect, no blip', async () => {
    assert.equal((await api.session.start()).state, 'online');
    const states: string[] = [];
    const sub = api.session.onDidChangeStatus((s) => states.push(s.state));
    const status = await api.session.configureRelay(`${relay.url}/`, AUTH_KEY);
    sub.dispose();
    assert.equal(status.state, 'online');
    assert.deepEqual(states.filter((s) => s !== 'online'), [], 'never left online');
    assert.equal(vscode.workspace.getConfiguration(Setting.Section).get(Setting.RelayUrl), `${relay.url}/`);
    assert.equal(api.session.status.relayUrl, `${relay.url}/`);
  });

  it('Configure Relay with another relay reconnects once, and the status bar ends online, not connecting', async () => {
    const other = await startRelay(extension.extensionPath);
    try {
      const states: string[] = [];
      const sub = api.session.onDidChangeStatus((s) => states.push(s.state));
      await api.session.configureRelay(other.url, AUTH_KEY);
      await until(api.session.onDidChangeStatus, () => api.session.status.state === 'online' && api.session.status.relayUrl === other.url);
      const agentSays = await api.client.request(TunnelStatusRequest.type);
      sub.dispose();
      assert.equal(api.session.status.state, agentSays.state);
      assert.equal(api.session.status.hostname, agentSays.hostname);
      const reconnects = states.filter((s, i) => s === 'connecting' && states[i - 1] !== 'connecting').length;
      assert.ok(reconnects <= 1, `one reconnect at most: ${states.join(' → ')}`);
    } finally {
      other.child.kill();
    }
  });
});
