import { RpcErrorCode, type LogLevel } from '../../../protocol/rpc';
import type { AgentConfig } from '../config/schema';
import { AgentRuntime, type ConnectionInfo, type RejectedRoute } from '../runtime/agent-runtime';
import type { ConnectionClose } from '../serve/stream-dispatcher';
import type { TunnelState } from '../tunnel/tunnel-client';
import { rpcCodeForRefusal } from './coded-errors';
import type { LastRefusal } from './tunnel-status';

/** What the runner tells the RPC core. */
export interface TunnelRunnerHooks {
  log(level: LogLevel, message: string): void;
  /** The tunnel's state changed (read it with `state`). */
  stateChanged(): void;
  /** The relay's refusals of routes changed (read them with `rejections`). */
  rejectionsChanged(): void;
  connectionOpen(connection: ConnectionInfo): void;
  connectionClose(close: ConnectionClose): void;
  /** The runtime was disposed: its connections are gone. */
  connectionsGone(): void;
}

/**
 * The RPC core's AgentRuntime, while one runs: started and stopped on request, its state, the
 * last fatal refusal (kept after the runtime gave up) and the relay's refusals of routes.
 * It does not watch the config file: the core owns the one watcher and hands changes over.
 */
export class TunnelRunner {
  private runtime: AgentRuntime | undefined;
  private refusal: LastRefusal | undefined;
  private rejected: ReadonlyMap<string, string> = new Map();

  constructor(
    private readonly configPath: string,
    private readonly hooks: TunnelRunnerHooks,
  ) {}

  get running(): boolean {
    return this.runtime !== undefined;
  }

  /** The runtime's tunnel state; undefined when none runs. */
  get state(): TunnelState | undefined {
    return this.runtime?.state;
  }

  get lastRefusal(): LastRefusal | undefined {
    return this.refusal;
  }

  /** The relay's refusals of the last routes announcement, by routeResultName. */
  get rejections(): ReadonlyMap<string, string> {
    return this.rejected;
  }

  /** Starts a runtime unless one runs (a refused one is replaced); resolves once settled or after timeoutMs. */
  async start(timeoutMs: number | undefined): Promise<void> {
    const current = this.runtime?.state;
    if (current && current.status === 'offline' && current.fatal) this.dispose();
    if (!this.runtime) this.create();
    if (timeoutMs !== undefined) await this.waitForSettled(timeoutMs);
  }

  /** Stops the runtime and forgets the last refusal. */
  stop(): void {
    this.dispose();
    this.refusal = undefined;
  }

  reload(): void {
    this.runtime?.reload();
  }

  apply(config: AgentConfig): void {
    this.runtime?.apply(config);
  }

  /** Stops the runtime (keeping the last refusal for the status). */
  dispose(): void {
    const runtime = this.runtime;
    if (!runtime) return;
    this.runtime = undefined;
    runtime.stop();
    runtime.removeAllListeners();
    this.hooks.connectionsGone();
    this.rejected = new Map();
  }

  /** Resolves once the runtime is online or offline (or stopped), or after timeoutMs. */
  private waitForSettled(timeoutMs: number): Promise<void> {
    const runtime = this.runtime;
    if (!runtime) return Promise.resolve();
    const settled = (s: TunnelState) => s.status !== 'connecting';
    if (settled(runtime.state)) return Promise.resolve();
    return new Promise((resolve) => {
      const onState = (s: TunnelState) => {
        if (settled(s)) finish();
      };
      const finish = () => {
        clearTimeout(timer);
        runtime.off('state', onState);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      runtime.on('state', onState);
    });
  }

  private create(): void {
    const runtime = new AgentRuntime(this.configPath, { watchConfig: false });
    const { hooks } = this;
    this.refusal = undefined;
    runtime.on('state', (state) => {
      if (state.status === 'offline') hooks.log(state.fatal ? 'error' : 'warn', `tunnel offline: ${state.reason}`);
      // Kept for the status after the runtime that was refused is disposed.
      if (state.status === 'offline' && state.fatal) this.refusal = { code: rpcCodeForRefusal(state.refusal) ?? RpcErrorCode.RelayUnreachable, message: state.reason };
      if (state.status === 'online') hooks.log('info', `tunnel online as ${state.hostname}`);
      if (state.status !== 'online') this.setRejections([]);
      hooks.stateChanged();
    });
    runtime.on('routesApplied', (rejected) => {
      for (const r of rejected) hooks.log('error', `the relay refused ${r.route}: ${r.reason}`);
      this.setRejections(rejected);
    });
    runtime.on('configError', (err) => hooks.log('error', `${err.message} (keeping the previous routes)`));
    runtime.on('log', (line) => hooks.log('info', line));
    runtime.on('connectionOpen', (c) => hooks.connectionOpen(c));
    runtime.on('connectionClose', (c) => hooks.connectionClose(c));
    this.runtime = runtime;
    runtime.start();
  }

  private setRejections(rejected: RejectedRoute[]): void {
    const next = new Map(rejected.map((r) => [r.route, r.reason]));
    const same = next.size === this.rejected.size && [...next].every(([route, reason]) => this.rejected.get(route) === reason);
    if (same) return;
    this.rejected = next;
    this.hooks.rejectionsChanged();
  }
}
