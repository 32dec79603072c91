/**
 * What the extension knows about the tunnel: the agent's status, routes and connections, kept
 * current from agent notifications and re-synced after every agent (re)start. Also brings the
 * agent in line with the settings (relay URL) and the secret token, and remembers whether the
 * user wants the tunnel running so a restarted agent resumes sharing.
 */
import * as vscode from 'vscode';
import {
  ConnectionDidCloseNotification,
  ConnectionDidOpenNotification,
  ConnectionDidUpdateNotification,
  ConnectionListRequest,
  LogDidWriteNotification,
  RelayConfigureRequest,
  RouteDidChangeNotification,
  RouteListRequest,
  TunnelDidChangeStateNotification,
  TunnelStartRequest,
  TunnelStatusRequest,
  TunnelStopRequest,
  type RouteList,
  type TunnelStatus,
} from '../../protocol/rpc';
import type { AgentClient } from './agent/agent-client';
import { ContextKey, Setting, TOKEN_SECRET_KEY } from './ids';
import type { Log } from './log';
import { ConnectionsModel, type ConnectionEntry } from './views/connections-model';

export class TunnelSession implements vscode.Disposable {
  private _status: TunnelStatus = { state: 'stopped', configured: false };
  private _routes: RouteList = { http: [], tcp: [] };
  readonly connections = new ConnectionsModel();
  /** The user asked for the tunnel to run (Share Port / Start), and has not stopped it since. */
  private wantRunning = false;
  private firstStart = true;
  private readonly disposables: vscode.Disposable[] = [];

  private readonly didChangeStatus = new vscode.EventEmitter<TunnelStatus>();
  readonly onDidChangeStatus = this.didChangeStatus.event;
  private readonly didChangeRoutes = new vscode.EventEmitter<RouteList>();
  readonly onDidChangeRoutes = this.didChangeRoutes.event;
  private readonly didChangeConnections = new vscode.EventEmitter<void>();
  /** Connections opened, closed or reset: the whole list may differ. */
  readonly onDidChangeConnections = this.didChangeConnections.event;
  private readonly didUpdateConnectionBytes = new vscode.EventEmitter<ConnectionEntry[]>();
  /** Live byte counts of these open connections changed (same entry objects as connections.entries()). */
  readonly onDidUpdateConnectionBytes = this.didUpdateConnectionBytes.event;

  constructor(
    readonly client: AgentClient,
    private readonly secrets: vscode.SecretStorage,
    private readonly log: Log,
  ) {
    this.disposables.push(
      this.didChangeStatus,
      this.didChangeRoutes,
      this.didChangeConnections,
      this.didUpdateConnectionBytes,
      client.onNotification(TunnelDidChangeStateNotification.type, (s) => this.setStatus(s)),
      client.onNotification(RouteDidChangeNotification.type, (r) => this.setRoutes(r)),
      client.onNotification(ConnectionDidOpenNotification.type, (c) => {
        this.connections.opened(c);
        this.didChangeConnections.fire();
      }),
      client.onNotification(ConnectionDidUpdateNotification.type, (u) => {
        const changed = this.connections.updated(u);
        if (changed.length > 0) this.didUpdateConnectionBytes.fire(changed);
      }),
      client.onNotification(ConnectionDidCloseNotification.type, (c) => {
        this.connections.closedConnection(c);
        this.didChangeConnections.fire();
      }),
      client.onNotification(LogDidWriteNotification.type, (e) => log.agentEntry(e)),
      client.onDidStart(() => void this.syncAfterStart()),
      client.onDidExit(({ expected }) => {
        this.connections.reset();
        this.didChangeConnections.fire();
        void vscode.commands.executeCommand('setContext', ContextKey.AgentRunning, false);
        if (!expected) this.setStatus({ ...this._status, state: 'connecting', reason: 'the agent stopped unexpectedly; restarting it' });
      }),
      client.onDidGiveUp((crashes) => {
        this.setStatus({ ...this._status, state: 'offline', reason: `the agent crashed ${crashes} times in 3 minutes and was not restarted` });
      }),
    );
  }

  get status(): TunnelStatus {
    return this._status;
  }

  get routes(): RouteList {
    return this._routes;
  }

  private setStatus(status: TunnelStatus): void {
    this._status = status;
    void vscode.commands.executeCommand('setContext', ContextKey.Configured, status.configured);
    void vscode.commands.executeCommand('setContext', ContextKey.TunnelState, status.state);
    this.didChangeStatus.fire(status);
  }

  private setRoutes(routes: RouteList): void {
    // The agent sends the list once per change (its own edit, an outside edit, the relay's answer).
    this._routes = routes;
    void vscode.commands.executeCommand('setContext', ContextKey.HasRoutes, routes.http.length + routes.tcp.length > 0);
    this.didChangeRoutes.fire(routes);
  }

  private settings(): { relayUrl: string; autoStart: boolean } {
    const config = vscode.workspace.getConfiguration(Setting.Section);
    return { relayUrl: (config.get<string>(Setting.RelayUrl) ?? '').trim(), autoStart: config.get<boolean>(Setting.AutoStart) ?? true };
  }

  /** Every agent start: read its state, apply the settings, resume sharing if wanted. */
  private async syncAfterStart(): Promise<void> {
    void vscode.commands.executeCommand('setContext', ContextKey.AgentRunning, true);
    try {
      await this.refresh();
      const { relayUrl, autoStart } = this.settings();
      if (relayUrl && relayUrl !== this._status.relayUrl) await this.applyRelaySetting(relayUrl);
      const hasRoutes = this._routes.http.length + this._routes.tcp.length > 0;
      if (this.firstStart && autoStart && hasRoutes && this._status.configured) this.wantRunning = true;
      this.firstStart = false;
      if (this.wantRunning && this._status.state === 'stopped') {
        this.setStatus(await this.client.request(TunnelStartRequest.type, { waitForOnline: false }));
      }
    } catch (err) {
      this.log.error(`could not sync with the agent: ${(err as Error).message}`);
    }
  }

  /** Reads status, routes and open connections from the agent. */
  async refresh(): Promise<void> {
    const [status, routes, connections] = await Promise.all([
      this.client.request(TunnelStatusRequest.type),
      this.client.request(RouteListRequest.type),
      this.client.request(ConnectionListRequest.type),
    ]);
    this.setStatus(status);
    this.setRoutes(routes);
    this.connections.reset(connections);
    this.didChangeConnections.fire();
  }

  async refreshRoutes(): Promise<void> {
    this.setRoutes(await this.client.request(RouteListRequest.type));
  }

  /** The `portway.relayUrl` setting changed (or differs from the agent's): configure the agent with it. */
  async applyRelaySetting(relayUrl: string): Promise<void> {
    const token = await this.secrets.get(TOKEN_SECRET_KEY);
    try {
      this.setStatus(await this.client.request(RelayConfigureRequest.type, { relayUrl, token: token || undefined }));
      await this.refreshRoutes();
    } catch (err) {
      this.log.error(`relay ${relayUrl} from the settings could not be configured: ${(err as Error).message}`);
      this.setStatus({ ...this._status, state: 'offline', reason: (err as Error).message });
      throw err;
    }
  }

  /** Configures the relay (checked by connecting once); on success keeps the token secret and the URL in settings. */
  async configureRelay(relayUrl: string, token: string | undefined): Promise<TunnelStatus> {
    const status = await this.client.request(RelayConfigureRequest.type, { relayUrl, token });
    if (token) await this.secrets.store(TOKEN_SECRET_KEY, token);
    else await this.secrets.delete(TOKEN_SECRET_KEY);
    this.setStatus(status);
    await vscode.workspace.getConfiguration(Setting.Section).update(Setting.RelayUrl, relayUrl, vscode.ConfigurationTarget.Global);
    await this.refreshRoutes();
    return status;
  }

  async start(): Promise<TunnelStatus> {
    this.wantRunning = true;
    const status = await this.client.request(TunnelStartRequest.type, { waitForOnline: true });
    this.setStatus(status);
    return status;
  }

  async stop(): Promise<TunnelStatus> {
    this.wantRunning = false;
    const status = await this.client.request(TunnelStopRequest.type);
    this.setStatus(status);
    return status;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
