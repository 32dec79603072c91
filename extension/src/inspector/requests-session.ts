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
} from '../../../protocol/rpc';
import type { AgentClient } from '../agent/agent-client';
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
      client.onDidStart(() => {
        this.store.newAgentRun();
        void this.configure().then(() => this.client.request(InspectListRequest.type).then((rows) => this.store.upsert([...rows].reverse())));
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${Setting.Section}.inspector`)) void this.configure();
      }),
    );
  }

  get enabled(): boolean {
    return inspectorSettings().enabled;
  }

  private async configure(): Promise<void> {
    const settings = inspectorSettings();
    this.store.setLimit(settings.maxRequests ?? 500);
    try {
      await this.client.request(InspectConfigureRequest.type, settings);
    } catch (err) {
      this.log.error(`the request inspector could not be set up: ${(err as Error).message}`);
    }
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
