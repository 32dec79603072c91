/**
 * The agent's request inspector from the extension's side: switched on and bounded by the
 * `portway.inspector.*` settings at every agent start, its inspect/didChange notifications kept
 * in one RequestsStore, and bodies fetched (inspect/get) or replayed on demand.
 */
import * as vscode from 'vscode';
import {
  InspectClearRequest,
  InspectConfigureRequest,
  InspectDidChangeNotification,
  InspectGetRequest,
  InspectListRequest,
  InspectReplayRequest,
  type CapturedRequest,
  type ReplayEdit,
  type RequestSummary,
} from '../../../protocol/rpc';
import type { AgentClient, AgentSession } from '../agent/agent-client';
import { Setting } from '../ids';
import type { Log } from '../log';
import { RequestsStore } from './requests-store';

export function inspectorSettings(): InspectConfigureRequest.Params {
  const config = vscode.workspace.getConfiguration(Setting.Section);
  return {
    enabled: config.get<boolean>(Setting.InspectorEnabled) ?? true,
    maxRequests: config.get<number>(Setting.InspectorMaxRequests) ?? 500,
    maxMemoryMiB: config.get<number>(Setting.InspectorMaxMemoryMiB) ?? 32,
  };
}

export class RequestsSession implements vscode.Disposable {
  readonly store = new RequestsStore();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly client: AgentClient,
    private readonly log: Log,
  ) {
    this.disposables.push(
      client.onNotification(InspectDidChangeNotification.type, (p) => this.store.upsert(p.requests)),
      client.onDidStart((agent) => {
        this.store.newAgentRun();
        void this.setUp(agent);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${Setting.Section}.inspector`) && client.running) void this.configure();
      }),
    );
  }

  get enabled(): boolean {
    return inspectorSettings().enabled;
  }

  /**
   * Settings and the rows so far, asked of the agent that just started over its own connection:
   * if it dies meanwhile they fail, instead of starting another agent (client.request would, even
   * after the restart budget is spent).
   */
  private async setUp(agent: AgentSession): Promise<void> {
    try {
      await agent.connection.sendRequest(InspectConfigureRequest.method, this.applyLimit());
      const rows = await agent.connection.sendRequest<RequestSummary[]>(InspectListRequest.method);
      this.store.upsert([...rows].reverse());
    } catch (err) {
      this.log.error(`the request inspector could not be set up: ${(err as Error).message}`);
    }
  }

  private async configure(): Promise<void> {
    try {
      await this.client.request(InspectConfigureRequest.type, this.applyLimit());
    } catch (err) {
      this.log.error(`the request inspector could not be set up: ${(err as Error).message}`);
    }
  }

  private applyLimit(): InspectConfigureRequest.Params {
    const settings = inspectorSettings();
    this.store.setLimit(settings.maxRequests ?? 500);
    return settings;
  }

  /** The request with its bodies; refused for a row of an agent that has since restarted. */
  detail(key: string): Promise<CapturedRequest> {
    const id = this.store.agentId(key);
    if (id === undefined) return Promise.reject(new Error('this request was captured before the agent restarted: its headers and bodies are gone'));
    return this.client.request(InspectGetRequest.type, { id });
  }

  replay(key: string, edit?: ReplayEdit): Promise<CapturedRequest> {
    const id = this.store.agentId(key);
    if (id === undefined) return Promise.reject(new Error('this request was captured before the agent restarted and cannot be replayed'));
    return this.client.request(InspectReplayRequest.type, { id, edit });
  }

  async clear(): Promise<void> {
    await this.client.request(InspectClearRequest.type);
    this.store.clear();
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
