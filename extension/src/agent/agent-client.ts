/**
 * The bundled agent (`dist/portway.js rpc`) as a child process of the extension host, spoken to
 * with JSON-RPC over its stdio. Its stderr goes to the log. A crash restarts it within a budget;
 * past the budget it stays down and `onDidGiveUp` fires.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as vscode from 'vscode';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
  type NotificationType,
  type RequestType,
  type RequestType0,
} from 'vscode-jsonrpc/node';
import { withMallocTunables } from '../../../common/malloc-tunables';
import { InitializeRequest, RPC_PROTOCOL_VERSION } from '../../../protocol/rpc';
import type { Log } from '../log';
import { RestartBudget } from './restart-budget';

export interface AgentClientOptions {
  /** dist/portway.js inside the extension. */
  agentScript: string;
  /** The agent's config file (passed as --config). */
  configPath: string;
  log: Log;
  budget?: RestartBudget;
  /** Extra environment for the child (tests). */
  env?: Record<string, string>;
}

export interface AgentSession {
  connection: MessageConnection;
  pid: number;
}

/** How long the agent gets to exit after its stdin closes before it is killed. */
const STOP_GRACE_MS = 3000;

export class AgentClient implements vscode.Disposable {
  private child: ChildProcessWithoutNullStreams | undefined;
  private session: Promise<AgentSession> | undefined;
  private readonly budget: RestartBudget;
  private stopping = false;
  private gaveUp = false;
  private disposed = false;
  /** Handlers registered once, re-attached to each new connection. */
  private readonly notificationHandlers: { method: string; handler: (params: unknown) => void }[] = [];

  private readonly didStart = new vscode.EventEmitter<AgentSession>();
  /** Fires each time an agent process is up and initialized (first start and every restart). */
  readonly onDidStart = this.didStart.event;
  private readonly didExit = new vscode.EventEmitter<{ code: number | null; signal: string | null; expected: boolean }>();
  readonly onDidExit = this.didExit.event;
  private readonly didGiveUp = new vscode.EventEmitter<number>();
  /** Fires with the crash count when the restart budget is spent. */
  readonly onDidGiveUp = this.didGiveUp.event;

  constructor(private readonly options: AgentClientOptions) {
    this.budget = options.budget ?? new RestartBudget();
  }

  get running(): boolean {
    return this.child !== undefined && !this.stopping;
  }

  get hasGivenUp(): boolean {
    return this.gaveUp;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Registers a notification handler that survives restarts. */
  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): vscode.Disposable {
    const entry = { method: type.method, handler: handler as (params: unknown) => void };
    this.notificationHandlers.push(entry);
    void this.session?.then((s) => s.connection.onNotification(type.method, entry.handler), () => undefined);
    return new vscode.Disposable(() => {
      const i = this.notificationHandlers.indexOf(entry);
      if (i >= 0) this.notificationHandlers.splice(i, 1);
    });
  }

  /** The running agent, started if needed. Rejects when it cannot be started. */
  ready(): Promise<AgentSession> {
    if (this.disposed) return Promise.reject(new Error('Portway is shutting down'));
    if (!this.session) {
      this.gaveUp = false;
      this.session = this.spawn();
      this.session.catch(() => (this.session = undefined));
    }
    return this.session;
  }

  async request<R>(type: RequestType0<R, void>): Promise<R>;
  async request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R>;
  async request(type: RequestType0<unknown, void> | RequestType<unknown, unknown, void>, params?: unknown): Promise<unknown> {
    const { connection } = await this.ready();
    // By method name: the type object may come from another copy of vscode-jsonrpc (tests), whose
    // parameter-structure markers this copy would not recognise. One object param goes by name either way.
    return params === undefined ? connection.sendRequest(type.method) : connection.sendRequest(type.method, params);
  }

  private spawn(): Promise<AgentSession> {
    const { agentScript, configPath, log } = this.options;
    log.info(`starting agent: ${agentScript} rpc --config ${configPath}`);
    const child = spawn(process.execPath, [agentScript, '--config', configPath, 'rpc'], {
      env: { ...withMallocTunables({ ...process.env, ...this.options.env }), ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.stopping = false;
    let stderrTail = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      const lines = (stderrTail + text).split('\n');
      stderrTail = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) log.agent(line);
    });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin), {
      error: (m) => log.error(`rpc: ${m}`),
      warn: (m) => log.warn(`rpc: ${m}`),
      info: () => undefined,
      log: () => undefined,
    });
    for (const { method, handler } of this.notificationHandlers) connection.onNotification(method, handler);
    connection.listen();

    const exited = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`could not start the Portway agent: ${err.message}`)));
      child.once('exit', (code, signal) => reject(new Error(`the Portway agent exited during start-up (${signal ?? `code ${code}`})`)));
    });
    child.once('exit', (code, signal) => this.onExit(child, connection, code, signal, stderrTail));
    child.once('error', (err) => log.error(`agent process error: ${err.message}`));

    const initialized = connection
      .sendRequest(InitializeRequest.type, { protocolVersion: RPC_PROTOCOL_VERSION, client: `vscode/${vscode.version}` })
      .then((result) => {
        log.info(`agent ${result.agentVersion} running (pid ${result.pid}), config ${result.configPath}`);
        const session = { connection, pid: result.pid };
        this.didStart.fire(session);
        return session;
      });
    return Promise.race([initialized, exited]);
  }

  private onExit(child: ChildProcessWithoutNullStreams, connection: MessageConnection, code: number | null, signal: string | null, stderrTail: string): void {
    if (stderrTail.trim()) this.options.log.agent(stderrTail);
    connection.dispose();
    if (this.child !== child) return;
    const expected = this.stopping || this.disposed;
    this.child = undefined;
    this.session = undefined;
    this.stopping = false;
    this.didExit.fire({ code, signal, expected });
    if (expected) {
      this.options.log.info('agent stopped');
      return;
    }
    this.options.log.error(`agent exited unexpectedly (${signal ?? `code ${code}`})`);
    if (this.budget.recordCrash()) {
      this.options.log.info(`restarting agent (${this.budget.recent} crash(es) in the last ${Math.round(this.budget.windowMs / 60_000)} minutes)`);
      this.ready().catch((err: Error) => this.options.log.error(err.message));
    } else {
      this.gaveUp = true;
      this.options.log.error(`agent crashed ${this.budget.recent} times in ${Math.round(this.budget.windowMs / 60_000)} minutes; not restarting it`);
      this.didGiveUp.fire(this.budget.recent);
    }
  }

  /** Stops the agent: closes its stdin (it exits on its own), kills it after a grace period. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await gone;
    clearTimeout(timer);
  }

  /** Stop and start again; also resets the crash budget (an explicit user action). */
  async restart(): Promise<AgentSession> {
    await this.stop();
    this.budget.reset();
    this.gaveUp = false;
    return this.ready();
  }

  dispose(): void {
    this.disposed = true;
    void this.stop();
    this.didStart.dispose();
    this.didExit.dispose();
    this.didGiveUp.dispose();
  }
}
