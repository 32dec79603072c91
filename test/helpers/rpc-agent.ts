/**
 * `portway rpc` as the extension runs it: the built CLI as a child process speaking JSON-RPC on
 * its stdio. Every notification it sends is recorded, so a test can await one that matches
 * (including one that already arrived) instead of sleeping.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { InitializeRequest, RelayConfigureRequest, RouteAddRequest, RPC_PROTOCOL_VERSION, TunnelStartRequest } from '../../protocol/rpc';
import { startOrigin, type TestOrigin } from './origin';
import { AGENT_BIN, startRelay, tempDir, type RelayProcess } from './processes';

export interface RecordedNotification {
  method: string;
  params: unknown;
}

export interface RpcAgent {
  child: ChildProcessWithoutNullStreams;
  connection: MessageConnection;
  /** Every notification so far, in arrival order. */
  notifications: RecordedNotification[];
  /** Resolves with the first notification of `type` at or after index `from` that matches. */
  waitForNotification<P>(type: { method: string }, predicate?: (params: P) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<P>;
  stderr(): string;
  /** Closes stdin (the agent exits on its own, as when VS Code goes away) and waits for the exit code. */
  stop(): Promise<number | null>;
}

export function startRpcAgent(configPath: string): RpcAgent {
  const child = spawn(process.execPath, [AGENT_BIN, '--config', configPath, 'rpc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  let stopping = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      // Pending requests would otherwise wait forever: disposing rejects them.
      if (!stopping) process.stderr.write(`portway rpc exited early (${code}):\n${stderr}\n`);
      connection.dispose();
      resolve(code);
    }),
  );
  const notifications: RecordedNotification[] = [];
  let waiters: { check: () => boolean }[] = [];
  connection.onNotification((method, params) => {
    notifications.push({ method, params });
    waiters = waiters.filter((w) => !w.check());
  });
  connection.listen();

  function waitForNotification<P>(type: { method: string }, predicate: (params: P) => boolean = () => true, options: { from?: number; timeoutMs?: number } = {}): Promise<P> {
    return new Promise((resolve, reject) => {
      let next = options.from ?? 0;
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${type.method}; got:\n${notifications.map((n) => `${n.method} ${JSON.stringify(n.params)}`).join('\n')}\nagent stderr:\n${stderr}`));
      }, options.timeoutMs ?? 15_000);
      const waiter = {
        check: () => {
          for (; next < notifications.length; next++) {
            const n = notifications[next];
            if (n.method === type.method && predicate(n.params as P)) {
              clearTimeout(timer);
              resolve(n.params as P);
              return true;
            }
          }
          return false;
        },
      };
      if (!waiter.check()) waiters.push(waiter);
    });
  }

  return {
    child,
    connection,
    notifications,
    waitForNotification,
    stderr: () => stderr,
    async stop() {
      stopping = true;
      child.stdin.end();
      return exited;
    },
  };
}

export interface SharingRpcAgent {
  relay: RelayProcess;
  origin: TestOrigin;
  agent: RpcAgent;
  hostname: string;
}

/**
 * A relay, an origin on loopback and `portway rpc` sharing the origin through the relay, online.
 * `afterInitialize` runs before anything else is asked (e.g. inspect/configure).
 */
export async function startSharingRpcAgent(name: string, afterInitialize?: (connection: MessageConnection) => Promise<unknown>): Promise<SharingRpcAgent> {
  const relay = await startRelay();
  const origin = await startOrigin();
  const agent = startRpcAgent(path.join(tempDir(`portway-${name}-`), 'config.json'));
  const { connection } = agent;
  await connection.sendRequest(InitializeRequest.type, { protocolVersion: RPC_PROTOCOL_VERSION, client: `${name}-test` });
  await afterInitialize?.(connection);
  const hostname = (await connection.sendRequest(RelayConfigureRequest.type, { relayUrl: relay.url })).hostname!;
  await connection.sendRequest(RouteAddRequest.type, { httpPort: origin.port });
  const started = await connection.sendRequest(TunnelStartRequest.type, { waitForOnline: true });
  assert.equal(started.state, 'online', JSON.stringify(started));
  return { relay, origin, agent, hostname };
}
