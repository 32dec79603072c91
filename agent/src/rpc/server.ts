/**
 * `portway rpc`: the agent core served as JSON-RPC over stdio, for the VS Code extension.
 * stdout carries only JSON-RPC (console output is sent to stderr); the process ends when stdin
 * closes, i.e. when the extension goes away.
 */
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { locateConfig } from '../config/config-file';
import {
  ConnectionDidCloseNotification,
  ConnectionDidOpenNotification,
  ConnectionDidUpdateNotification,
  ConnectionListRequest,
  FirewallAddRequest,
  FirewallRemoveRequest,
  InitializeRequest,
  ListeningPortsRequest,
  LogDidWriteNotification,
  RelayConfigureRequest,
  RouteAddRequest,
  RouteDidChangeNotification,
  RouteListRequest,
  RouteRemoveRequest,
  RPC_PROTOCOL_VERSION,
  RpcErrorCode,
  TcpAllocateRequest,
  TcpForwardRequest,
  TcpReleaseRequest,
  TunnelDidChangeStateNotification,
  TunnelStartRequest,
  TunnelStatusRequest,
  TunnelStopRequest,
  type FirewallRule,
  type ListeningPort,
  type RouteRef,
  type RpcErrorData,
} from '../../../protocol/rpc';
import { AgentCoreError, type AgentCore, type AgentCoreEvent, type Disposable } from './agent-core';
import { listListeningPorts } from './listening-ports';
import { ConfigBackedCore } from './config-backed-core';

export interface RpcServerOptions {
  /** Finds listening ports (tests inject a fake). */
  listPorts?: () => Promise<ListeningPort[]>;
}

// ---------------------------------------------------------------------------------------------
// Parameter checks: the extension is trusted, but a bad value must be a clear error, not a crash.

type Obj = Record<string, unknown>;

function invalid(message: string): never {
  throw new AgentCoreError(RpcErrorCode.InvalidArgument, message);
}

function obj(value: unknown, what = 'params'): Obj {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) invalid(`${what} must be an object`);
  return value as Obj;
}

function optString(o: Obj, key: string, max = 4096): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) invalid(`${key} must be a string of at most ${max} characters`);
  return v;
}

function reqString(o: Obj, key: string, max = 4096): string {
  const v = optString(o, key, max);
  if (v === undefined || v === '') invalid(`${key} is required`);
  return v;
}

function optPort(o: Obj, key: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) invalid(`${key} must be a port number (1-65535)`);
  return v;
}

function reqPort(o: Obj, key: string): number {
  const v = optPort(o, key);
  if (v === undefined) invalid(`${key} is required`);
  return v;
}

function optBool(o: Obj, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') invalid(`${key} must be true or false`);
  return v;
}

function optNumber(o: Obj, key: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) invalid(`${key} must be a number from ${min} to ${max}`);
  return v;
}

function routeRef(value: unknown): RouteRef {
  const o = obj(value, 'route');
  if (o.kind === 'http') return { kind: 'http', domain: reqString(o, 'domain', 253) };
  if (o.kind === 'tcp') return { kind: 'tcp', port: reqPort(o, 'port') };
  invalid('route.kind must be "http" or "tcp"');
}

function firewallRule(value: unknown): FirewallRule {
  const o = obj(value, 'rule');
  if (o.action !== 'allow' && o.action !== 'drop') invalid('rule.action must be "allow" or "drop"');
  return { action: o.action, network: reqString(o, 'network', 64).trim() };
}

/** Any failure → a JSON-RPC error whose data names an RpcErrorCode when there is one. */
function toResponseError(err: unknown): ResponseError<RpcErrorData | undefined> {
  if (err instanceof ResponseError) return err;
  if (err instanceof AgentCoreError) return new ResponseError<RpcErrorData>(err.code, err.message, { code: err.code });
  const message = err instanceof Error ? err.message : String(err);
  return new ResponseError(-32603, message || 'internal error in the agent', undefined);
}

/**
 * Serves `core` on `connection` (which the caller then `listen()`s). Returns what to dispose
 * when the connection ends; the core itself is left to the caller.
 */
export function attachRpcServer(connection: MessageConnection, core: AgentCore, options: RpcServerOptions = {}): Disposable {
  const listPorts = options.listPorts ?? (() => listListeningPorts());
  const disposables: Disposable[] = [];

  const handle = <R>(register: (run: (params: unknown) => Promise<R>) => Disposable, run: (params: unknown) => Promise<R> | R) =>
    disposables.push(
      register(async (params) => {
        try {
          return await run(params);
        } catch (err) {
          throw toResponseError(err);
        }
      }),
    );

  handle(
    (h) => connection.onRequest(InitializeRequest.type, h),
    (p) => {
      const o = obj(p);
      const version = optNumber(o, 'protocolVersion', 0, 1_000_000);
      if (version !== RPC_PROTOCOL_VERSION) {
        invalid(`protocol version ${version} is not supported by this agent (it speaks ${RPC_PROTOCOL_VERSION}); reinstall the extension`);
      }
      return { protocolVersion: RPC_PROTOCOL_VERSION, agentVersion: core.version, pid: process.pid, configPath: core.configPath };
    },
  );
  handle((h) => connection.onRequest(TunnelStatusRequest.type, () => h(undefined)), () => core.status());
  handle(
    (h) => connection.onRequest(TunnelStartRequest.type, h),
    (p) => {
      const o = obj(p);
      return core.start({ waitForOnline: optBool(o, 'waitForOnline'), timeoutMs: optNumber(o, 'timeoutMs', 0, 600_000) });
    },
  );
  handle((h) => connection.onRequest(TunnelStopRequest.type, () => h(undefined)), () => core.stop());
  handle(
    (h) => connection.onRequest(RelayConfigureRequest.type, h),
    (p) => {
      const o = obj(p);
      return core.configureRelay({
        relayUrl: reqString(o, 'relayUrl', 2048).trim(),
        token: optString(o, 'token', 512) || undefined,
        hostname: optString(o, 'hostname', 253)?.trim() || undefined,
        verify: optBool(o, 'verify'),
      });
    },
  );
  handle((h) => connection.onRequest(RouteListRequest.type, () => h(undefined)), () => core.listRoutes());
  handle(
    (h) => connection.onRequest(RouteAddRequest.type, h),
    (p) => {
      const o = obj(p);
      const httpPort = optPort(o, 'httpPort');
      const webroot = optString(o, 'webroot');
      if ((httpPort === undefined) === (webroot === undefined)) invalid('give either httpPort or webroot');
      return core.addHttpRoute({
        domain: optString(o, 'domain', 253)?.trim() || undefined,
        destination: optString(o, 'destination', 253)?.trim() || undefined,
        httpPort,
        webroot,
        hostRewrite: optBool(o, 'hostRewrite'),
        requireListening: optBool(o, 'requireListening'),
      });
    },
  );
  handle(
    (h) => connection.onRequest(RouteRemoveRequest.type, h),
    (p) => core.removeHttpRoute(reqString(obj(p), 'domain', 253)),
  );
  handle(
    (h) => connection.onRequest(TcpAllocateRequest.type, h),
    (p) => {
      const o = obj(p);
      return core.allocateTcpPort({ destination: optString(o, 'destination', 253), destinationPort: optPort(o, 'destinationPort') });
    },
  );
  handle(
    (h) => connection.onRequest(TcpForwardRequest.type, h),
    (p) => {
      const o = obj(p);
      return core.forwardTcpPort({ port: reqPort(o, 'port'), destination: optString(o, 'destination', 253), destinationPort: reqPort(o, 'destinationPort') });
    },
  );
  handle(
    (h) => connection.onRequest(TcpReleaseRequest.type, h),
    (p) => core.releaseTcpPort(reqPort(obj(p), 'port')),
  );
  handle(
    (h) => connection.onRequest(FirewallAddRequest.type, h),
    (p) => {
      const o = obj(p);
      return core.addFirewallRule(routeRef(o.route), firewallRule(o.rule));
    },
  );
  handle(
    (h) => connection.onRequest(FirewallRemoveRequest.type, h),
    (p) => {
      const o = obj(p);
      return core.removeFirewallRule(routeRef(o.route), firewallRule(o.rule));
    },
  );
  handle((h) => connection.onRequest(ListeningPortsRequest.type, () => h(undefined)), () => listPorts());
  handle((h) => connection.onRequest(ConnectionListRequest.type, () => h(undefined)), () => core.listConnections());

  disposables.push(
    core.onEvent((event: AgentCoreEvent) => {
      // A notification to a closed connection throws; the connection's end is handled elsewhere.
      const send = (fn: () => Promise<void>) => {
        try {
          fn().catch(() => undefined);
        } catch {
          /* connection already closed */
        }
      };
      switch (event.type) {
        case 'state':
          return send(() => connection.sendNotification(TunnelDidChangeStateNotification.type, event.status));
        case 'routes':
          return send(() => connection.sendNotification(RouteDidChangeNotification.type, event.routes));
        case 'connectionOpen':
          return send(() => connection.sendNotification(ConnectionDidOpenNotification.type, event.connection));
        case 'connectionUpdate':
          return send(() => connection.sendNotification(ConnectionDidUpdateNotification.type, event.update));
        case 'connectionClose':
          return send(() => connection.sendNotification(ConnectionDidCloseNotification.type, event.close));
        case 'log':
          return send(() => connection.sendNotification(LogDidWriteNotification.type, event.entry));
        default: {
          const unreachable: never = event;
          return unreachable;
        }
      }
    }),
  );

  return {
    dispose: () => {
      for (const d of disposables.splice(0)) d.dispose();
    },
  };
}

/** Keeps stdout for JSON-RPC only: everything written through console goes to stderr. */
function redirectConsoleToStderr(): void {
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
  console.trace = (...args: unknown[]) => console.error(new Error(args.map(String).join(' ')).stack);
}

/** The `portway rpc` subcommand: serves until stdin closes, then stops the tunnel and returns. */
export async function runRpcServer(options: { configPath?: string }): Promise<void> {
  redirectConsoleToStderr();
  const core = new ConfigBackedCore(locateConfig(options.configPath));
  const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout), {
    error: (m) => process.stderr.write(`rpc: ${m}\n`),
    warn: (m) => process.stderr.write(`rpc: ${m}\n`),
    info: () => undefined,
    log: () => undefined,
  });
  const served = attachRpcServer(connection, core);
  const ended = new Promise<void>((resolve) => {
    connection.onClose(() => resolve());
    process.stdin.once('end', () => resolve());
    process.stdin.once('close', () => resolve());
    // The extension closing the pipe while we write is an ordinary end, not a crash.
    process.stdout.on('error', () => resolve());
  });
  connection.listen();
  await ended;
  served.dispose();
  connection.dispose();
  await core.dispose().catch((err: Error) => process.stderr.write(`rpc: stopping the agent failed: ${err.message}\n`));
  // Anything still open (a watcher, a half-closed socket) must not keep an orphan alive.
  setTimeout(() => process.exit(0), 2000).unref();
}
