/**
 * The RPC server as the extension runs it: a child process speaking JSON-RPC on stdio, driving
 * the real agent core against a real relay and a local origin on loopback.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import {
  ConnectionDidCloseNotification,
  ConnectionDidOpenNotification,
  FirewallAddRequest,
  FirewallRemoveRequest,
  InitializeRequest,
  ListeningPortsRequest,
  RelayConfigureRequest,
  RouteAddRequest,
  RouteListRequest,
  RouteRemoveRequest,
  RPC_PROTOCOL_VERSION,
  RpcErrorCode,
  TunnelDidChangeStateNotification,
  TunnelStartRequest,
  TunnelStatusRequest,
  TunnelStopRequest,
  type ConnectionInfo,
  type TunnelStatus,
} from '../../protocol/rpc';
import { request } from '../helpers/http-client';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { startRelay, tempDir, type RelayProcess } from '../helpers/processes';

const AUTH_KEY = 'k'.repeat(40);
const SERVER_JS = path.resolve(__dirname, '..', '..', 'agent', 'src', 'rpc', 'server.js');

let relay: RelayProcess;
let origin: TestOrigin;

before(async () => {
  relay = await startRelay({ authKey: AUTH_KEY });
  origin = await startOrigin();
});
after(async () => {
  await relay.stop();
  await origin.close();
});

function spawnAgent(configPath: string) {
  const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(SERVER_JS)}).runRpcServer({ configPath: ${JSON.stringify(configPath)} })`], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const errors: Error[] = [];
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.onError(([err]) => errors.push(err));
  connection.listen();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, connection, errors, exited, stderr: () => stderr };
}

async function rpcError(p: Promise<unknown>): Promise<ResponseError<unknown>> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ResponseError, String(err));
    return err;
  }
  assert.fail('expected the request to fail');
}

function waitForNotification<P>(connection: MessageConnection, method: string, predicate: (p: P) => boolean = () => true): Promise<P> {
  return new Promise((resolve) => {
    const d = connection.onNotification(method, (p: P) => {
      if (!predicate(p)) return;
      d.dispose();
      resolve(p);
    });
  });
}

test('portway rpc over stdio: configure, share a port, see connections, firewall, stop, exit on stdin close', async () => {
  const configPath = path.join(tempDir('portway-rpc-'), 'agent', 'config.json');
  const agent = spawnAgent(configPath);
  const { connection } = agent;

  const init = await connection.sendRequest(InitializeRequest.type, { protocolVersion: RPC_PROTOCOL_VERSION, client: 'test' });
  assert.equal(init.configPath, configPath);
  assert.notEqual(init.pid, process.pid);

  assert.deepEqual(await connection.sendRequest(TunnelStatusRequest.type), { state: 'stopped', configured: false });
  assert.equal((await rpcError(connection.sendRequest(TunnelStartRequest.type, {}))).code, RpcErrorCode.NotConfigured);

  // A wrong token is refused by the relay, and nothing is written.
  const refused = await rpcError(connection.sendRequest(RelayConfigureRequest.type, { relayUrl: relay.url, token: 'w'.repeat(40) }));
  assert.equal(refused.code, RpcErrorCode.Unauthorized, refused.message);
  assert.equal(fs.existsSync(configPath), false);
  // An unreachable relay is a different, clear error.
  const unreachable = await rpcError(connection.sendRequest(RelayConfigureRequest.type, { relayUrl: 'http://127.0.0.1:1', token: AUTH_KEY }));
  assert.equal(unreachable.code, RpcErrorCode.RelayUnreachable);
  assert.match(unreachable.message, /cannot reach relay/);

  const configured = await connection.sendRequest(RelayConfigureRequest.type, { relayUrl: relay.url, token: AUTH_KEY });
  assert.equal(configured.configured, true);
  assert.match(configured.hostname ?? '', /\.localhost$/);
  const hostname = configured.hostname!;
  assert.equal(configured.url, `http://${hostname}:${relay.port}/`);
  assert.equal((fs.statSync(configPath).mode & 0o777).toString(8), '600');

  // Listening ports include our origin.
  const ports = await connection.sendRequest(ListeningPortsRequest.type);
  assert.ok(ports.some((p) => p.port === origin.port), `origin port ${origin.port} not listed`);

  // A port nothing listens on is refused with its own code; the origin's port is accepted.
  const notListening = await rpcError(connection.sendRequest(RouteAddRequest.type, { httpPort: 1 }));
  assert.equal(notListening.code, RpcErrorCode.PortNotListening);
  const badDomain = await rpcError(connection.sendRequest(RouteAddRequest.type, { domain: 'elsewhere.example.com', httpPort: origin.port }));
  assert.equal(badDomain.code, RpcErrorCode.InvalidArgument);
  const route = await connection.sendRequest(RouteAddRequest.type, { httpPort: origin.port });
  assert.equal(route.domain, hostname);
  assert.equal(route.url, `http://${hostname}:${relay.port}/`);
  const sub = await connection.sendRequest(RouteAddRequest.type, { domain: 'blog', httpPort: origin.port });
  assert.equal(sub.domain, `blog.${hostname}`);

  const online = waitForNotification<TunnelStatus>(connection, TunnelDidChangeStateNotification.method, (s) => s.state === 'online');
  const started = await connection.sendRequest(TunnelStartRequest.type, { waitForOnline: true });
  assert.equal(started.state, 'online', JSON.stringify(started));
  assert.equal((await online).hostname, hostname);

  // Traffic through the relay reaches the origin, and shows up as a connection that opens and closes.
  const opened = waitForNotification<ConnectionInfo>(connection, ConnectionDidOpenNotification.method);
  const closed = waitForNotification<ConnectionDidCloseNotification.Params>(connection, ConnectionDidCloseNotification.method);
  const res = await request(relay.port, hostname, { path: '/echo-headers' });
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body.toString()).url, '/echo-headers');
  const open = await opened;
  assert.deepEqual(open.route, { kind: 'http', domain: hostname });
  assert.equal(open.clientAddress, '127.0.0.1');
  const close = await closed;
  assert.equal(close.id, open.id);
  assert.ok(close.bytesOut > 0, 'response bytes counted');

  // Firewall rules are validated, normalised, kept per route and removable.
  const bad = await rpcError(connection.sendRequest(FirewallAddRequest.type, { route: { kind: 'http', domain: hostname }, rule: { action: 'drop', network: '300.1.1.1' } }));
  assert.equal(bad.code, RpcErrorCode.InvalidArgument);
  const rules = await connection.sendRequest(FirewallAddRequest.type, { route: { kind: 'http', domain: hostname }, rule: { action: 'drop', network: '10.0.0.0/8' } });
  assert.deepEqual(rules, [{ action: 'drop', network: '10.0.0.0/8' }]);
  const listed = await connection.sendRequest(RouteListRequest.type);
  assert.deepEqual(listed.http.find((r) => r.domain === hostname)?.firewall, [{ action: 'drop', network: '10.0.0.0/8' }]);
  assert.deepEqual(await connection.sendRequest(FirewallRemoveRequest.type, { route: { kind: 'http', domain: hostname }, rule: { action: 'drop', network: '10.0.0.0/8' } }), []);
  const missing = await rpcError(connection.sendRequest(FirewallRemoveRequest.type, { route: { kind: 'http', domain: 'nope.localhost' }, rule: { action: 'drop', network: '10.0.0.0/8' } }));
  assert.equal(missing.code, RpcErrorCode.NotFound);

  await connection.sendRequest(RouteRemoveRequest.type, { domain: `blog.${hostname}` });
  assert.deepEqual((await connection.sendRequest(RouteListRequest.type)).http.map((r) => r.domain), [hostname]);

  const stopped = await connection.sendRequest(TunnelStopRequest.type);
  assert.equal(stopped.state, 'stopped');

  assert.deepEqual(agent.errors, [], 'stdout carried only JSON-RPC');
  agent.child.stdin.end();
  assert.equal(await agent.exited, 0, agent.stderr());
});
