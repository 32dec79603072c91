/**
 * The JSON-RPC server over in-memory streams, against a fake AgentCore: typed requests reach
 * the core with checked parameters, core errors arrive as coded JSON-RPC errors, and core
 * events arrive as notifications.
 */
import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { AgentCoreError, type AgentCore, type AgentCoreEvent } from '../../agent/src/rpc/agent-core';
import { attachRpcServer } from '../../agent/src/rpc/server';
import {
  ConnectionDidCloseNotification,
  ConnectionDidOpenNotification,
  ConnectionDidUpdateNotification,
  FirewallAddRequest,
  InitializeRequest,
  ListeningPortsRequest,
  LogDidWriteNotification,
  RelayConfigureRequest,
  RouteAddRequest,
  RouteListRequest,
  RPC_PROTOCOL_VERSION,
  RpcErrorCode,
  TunnelDidChangeStateNotification,
  TunnelStartRequest,
  TunnelStatusRequest,
  type ConnectionInfo,
  type FirewallRule,
  type HttpRoute,
  type TunnelStatus,
} from '../../protocol/rpc';

class FakeCore implements AgentCore {
  readonly configPath = '/fake/config.json';
  readonly version = '9.9.9';
  readonly calls: { method: string; args: unknown[] }[] = [];
  private listener: ((e: AgentCoreEvent) => void) | undefined;
  state: TunnelStatus = { state: 'stopped', configured: true, relayUrl: 'http://relay.test' };
  routes: HttpRoute[] = [];

  fire(event: AgentCoreEvent): void {
    this.listener?.(event);
  }
  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }
  status() {
    this.record('status');
    return this.state;
  }
  async start(params: TunnelStartRequest.Params) {
    this.record('start', params);
    this.state = { ...this.state, state: 'online', hostname: 'a.relay.test', url: 'http://a.relay.test/' };
    return this.state;
  }
  async stop() {
    this.record('stop');
    return { ...this.state, state: 'stopped' as const };
  }
  async configureRelay(params: RelayConfigureRequest.Params) {
    this.record('configureRelay', params);
    if (params.token === 'wrong') throw new AgentCoreError(RpcErrorCode.Unauthorized, 'the relay refused the token');
    return this.state;
  }
  async listRoutes() {
    return { http: this.routes, tcp: [] };
  }
  async addHttpRoute(params: RouteAddRequest.Params) {
    this.record('addHttpRoute', params);
    if (params.httpPort === 9) throw new AgentCoreError(RpcErrorCode.PortNotListening, 'nothing is listening on 127.0.0.1:9');
    if (params.httpPort === 13) throw new Error('disk on fire');
    const route: HttpRoute = { domain: `${params.domain ?? 'a'}.relay.test`, url: 'http://x/', kind: 'proxy', destination: params.destination ?? '127.0.0.1', httpPort: params.httpPort, firewall: [] };
    this.routes.push(route);
    return route;
  }
  async removeHttpRoute(domain: string) {
    this.record('removeHttpRoute', domain);
  }
  async allocateTcpPort(): Promise<never> {
    throw new AgentCoreError(RpcErrorCode.Unsupported, 'no');
  }
  async forwardTcpPort(): Promise<never> {
    throw new AgentCoreError(RpcErrorCode.Unsupported, 'no');
  }
  async releaseTcpPort(): Promise<void> {}
  async addFirewallRule(route: unknown, rule: FirewallRule) {
    this.record('addFirewallRule', route, rule);
    return [rule];
  }
  async removeFirewallRule() {
    return [];
  }
  listConnections(): ConnectionInfo[] {
    return [];
  }
  configureInspector(params: unknown) {
    this.record('configureInspector', params);
  }
  listRequests() {
    return [];
  }
  getRequest(): never {
    throw new AgentCoreError(RpcErrorCode.NotFound, 'no captured request');
  }
  async replayRequest(params: unknown): Promise<never> {
    this.record('replayRequest', params);
    throw new AgentCoreError(RpcErrorCode.NotFound, 'no captured request');
  }
  clearRequests() {}
  onEvent(listener: (e: AgentCoreEvent) => void) {
    this.listener = listener;
    return { dispose: () => (this.listener = undefined) };
  }
  async dispose() {}
}

function pair(core: AgentCore, listPorts = async () => [{ port: 3000, address: '127.0.0.1', family: 4 as const, pid: 42, process: 'node' }]) {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const server = createMessageConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient));
  const client = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const attached = attachRpcServer(server, core, { listPorts });
  server.listen();
  client.listen();
  return {
    client,
    close: () => {
      attached.dispose();
      client.dispose();
      server.dispose();
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<ResponseError<unknown>> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ResponseError, `expected a ResponseError, got ${err}`);
    return err;
  }
  assert.fail('expected the request to fail');
}

function nextNotification<P>(client: MessageConnection, type: { method: string }): Promise<P> {
  return new Promise((resolve) => {
    const d = client.onNotification(type.method, (params: P) => {
      d.dispose();
      resolve(params);
    });
  });
}

test('initialize answers with versions and refuses another protocol version', async () => {
  const core = new FakeCore();
  const { client, close } = pair(core);
  const ok = await client.sendRequest(InitializeRequest.type, { protocolVersion: RPC_PROTOCOL_VERSION, client: 'test' });
  assert.equal(ok.protocolVersion, RPC_PROTOCOL_VERSION);
  assert.equal(ok.agentVersion, '9.9.9');
  assert.equal(ok.configPath, '/fake/config.json');
  assert.equal(ok.pid, process.pid);
  const err = await rejection(client.sendRequest(InitializeRequest.type, { protocolVersion: 99, client: 'test' }));
  assert.equal(err.code, RpcErrorCode.InvalidArgument);
  assert.match(err.message, /protocol version 99/);
  close();
});

test('typed requests reach the core and return its results', async () => {
  const core = new FakeCore();
  const { client, close } = pair(core);
  assert.equal((await client.sendRequest(TunnelStatusRequest.type)).state, 'stopped');
  const started = await client.sendRequest(TunnelStartRequest.type, { waitForOnline: true, timeoutMs: 500 });
  assert.equal(started.state, 'online');
  assert.deepEqual(core.calls.find((c) => c.method === 'start')?.args[0], { waitForOnline: true, timeoutMs: 500 });
  const route = await client.sendRequest(RouteAddRequest.type, { domain: 'app', httpPort: 3000 });
  assert.equal(route.domain, 'app.relay.test');
  assert.deepEqual((await client.sendRequest(RouteListRequest.type)).http.map((r) => r.domain), ['app.relay.test']);
  const rules = await client.sendRequest(FirewallAddRequest.type, { route: { kind: 'http', domain: 'app.relay.test' }, rule: { action: 'drop', network: ' 127.0.0.1 ' } });
  assert.deepEqual(rules, [{ action: 'drop', network: '127.0.0.1' }]);
  const ports = await client.sendRequest(ListeningPortsRequest.type);
  assert.deepEqual(ports, [{ port: 3000, address: '127.0.0.1', family: 4, pid: 42, process: 'node' }]);
  close();
});

test('bad parameters are refused before reaching the core', async () => {
  const core = new FakeCore();
  const { client, close } = pair(core);
  const cases: [string, unknown, RegExp][] = [
    [RouteAddRequest.method, { httpPort: 70000 }, /httpPort must be a port number/],
    [RouteAddRequest.method, { httpPort: '80' }, /httpPort must be a port number/],
    [RouteAddRequest.method, {}, /either httpPort or webroot/],
    [RouteAddRequest.method, { httpPort: 80, webroot: '/srv' }, /either httpPort or webroot/],
    [RelayConfigureRequest.method, { token: 'x' }, /relayUrl is required/],
    [FirewallAddRequest.method, { route: { kind: 'udp', port: 1 }, rule: { action: 'drop', network: '1.2.3.4' } }, /route.kind/],
    [FirewallAddRequest.method, { route: { kind: 'tcp', port: 22001 }, rule: { action: 'reject', network: '1.2.3.4' } }, /rule.action/],
    [TunnelStartRequest.method, { timeoutMs: -1 }, /timeoutMs/],
    ['inspect/configure', { maxRequests: 10 }, /enabled is required/],
    ['inspect/configure', { enabled: true, maxMemoryMiB: 0 }, /maxMemoryMiB/],
    ['inspect/get', { id: '3' }, /id must be/],
    ['inspect/replay', { id: 3, edit: { path: 'no-slash' } }, /edit: path must start with/],
    ['inspect/replay', { id: 3, edit: { headers: ['X-A'] } }, /edit: headers must be/],
  ];
  for (const [method, params, message] of cases) {
    const err = await rejection(client.sendRequest(method, params));
    assert.equal(err.code, RpcErrorCode.InvalidArgument, `${method} ${JSON.stringify(params)}`);
    assert.match(err.message, message);
    assert.deepEqual(err.data, { code: RpcErrorCode.InvalidArgument });
  }
  assert.equal(core.calls.filter((c) => ['addHttpRoute', 'configureRelay', 'configureInspector', 'replayRequest'].includes(c.method)).length, 0);
  close();
});

test('core errors arrive with their code; unexpected ones as internal errors with the message', async () => {
  const core = new FakeCore();
  const { client, close } = pair(core);
  const notListening = await rejection(client.sendRequest(RouteAddRequest.type, { httpPort: 9 }));
  assert.equal(notListening.code, RpcErrorCode.PortNotListening);
  assert.match(notListening.message, /nothing is listening/);
  const refused = await rejection(client.sendRequest(RelayConfigureRequest.type, { relayUrl: 'http://relay.test', token: 'wrong' }));
  assert.equal(refused.code, RpcErrorCode.Unauthorized);
  const internal = await rejection(client.sendRequest(RouteAddRequest.type, { httpPort: 13 }));
  assert.equal(internal.code, -32603);
  assert.match(internal.message, /disk on fire/);
  close();
});

test('core events become notifications', async () => {
  const core = new FakeCore();
  const { client, close } = pair(core);
  const state = nextNotification<TunnelStatus>(client, TunnelDidChangeStateNotification.type);
  core.fire({ type: 'state', status: { state: 'connecting', configured: true } });
  assert.equal((await state).state, 'connecting');

  const opened = nextNotification<ConnectionInfo>(client, ConnectionDidOpenNotification.type);
  const connection: ConnectionInfo = { id: 'c1', route: { kind: 'http', domain: 'a.relay.test' }, clientAddress: '127.0.0.1', openedAt: 1, bytesIn: 0, bytesOut: 0 };
  core.fire({ type: 'connectionOpen', connection });
  assert.deepEqual(await opened, connection);

  const updated = nextNotification<ConnectionDidUpdateNotification.Params>(client, ConnectionDidUpdateNotification.type);
  core.fire({ type: 'connectionUpdate', update: { connections: [{ id: 'c1', bytesIn: 4, bytesOut: 9000 }] } });
  assert.deepEqual(await updated, { connections: [{ id: 'c1', bytesIn: 4, bytesOut: 9000 }] });

  const closed = nextNotification<ConnectionDidCloseNotification.Params>(client, ConnectionDidCloseNotification.type);
  core.fire({ type: 'connectionClose', close: { id: 'c1', bytesIn: 10, bytesOut: 20, closedAt: 2 } });
  assert.deepEqual(await closed, { id: 'c1', bytesIn: 10, bytesOut: 20, closedAt: 2 });

  const log = nextNotification<LogDidWriteNotification.Params>(client, LogDidWriteNotification.type);
  core.fire({ type: 'log', entry: { level: 'warn', message: 'hello', time: 3 } });
  assert.equal((await log).message, 'hello');
  close();
  // After the server is disposed, events go nowhere (and do not throw).
  core.fire({ type: 'log', entry: { level: 'info', message: 'late', time: 4 } });
});
