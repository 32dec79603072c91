/**
 * Noticing ports: when a new port starts listening in the workspace (its process runs in a
 * workspace folder), offer "Share" once, as code-server's own
 * "your application is available" toast does. Off with `portway.offerToShareNewPorts`.
 */
import * as vscode from 'vscode';
import { ListeningPortsRequest, type ListeningPort } from '../../protocol/rpc';
import { Command, Setting } from './ids';
import { NewPortTracker, shareablePorts } from './port-watch-model';
import type { TunnelSession } from './tunnel-session';

/** How often the listening ports are read (a /proc scan in the agent). */
const LOOK_EVERY_MS = 5_000;

function workspaceFolderPaths(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

export class PortWatcher implements vscode.Disposable {
  private readonly tracker = new NewPortTracker();
  private readonly didSee = new vscode.EventEmitter<ListeningPort[]>();
  /** Every look's listening ports, all of them (the Routes view's "nothing listening" state). */
  readonly onDidSee = this.didSee.event;
  private readonly timer: NodeJS.Timeout;
  private looking = false;

  constructor(private readonly session: TunnelSession) {
    this.timer = setInterval(() => void this.look(), LOOK_EVERY_MS);
    void this.look();
  }

  /** The listening ports minus Portway's and the editor's own. Used by the Share Port picker too. */
  async shareable(): Promise<ListeningPort[]> {
    return this.shareableOf(await this.session.client.request(ListeningPortsRequest.type));
  }

  private shareableOf(ports: ListeningPort[]): ListeningPort[] {
    const pids = new Set([this.session.client.pid, process.pid, process.ppid].filter((p): p is number => p !== undefined));
    return shareablePorts(ports, { pids, relayUrl: this.session.status.relayUrl });
  }

  private enabled(): boolean {
    return vscode.workspace.getConfiguration(Setting.Section).get<boolean>(Setting.OfferToShareNewPorts) ?? true;
  }

  private async look(): Promise<void> {
    if (this.looking || !this.session.client.running) return;
    this.looking = true;
    try {
      const all = await this.session.client.request(ListeningPortsRequest.type);
      this.didSee.fire(all);
      if (!this.enabled()) return;
      const ports = this.shareableOf(all);
      for (const port of this.tracker.fresh(ports, this.session.routes, workspaceFolderPaths())) void this.offer(port, ports.find((p) => p.port === port)?.process);
    } catch {
      // the agent is restarting; the next look tries again
    } finally {
      this.looking = false;
    }
  }

  private async offer(port: number, processName: string | undefined): Promise<void> {
    const choice = await vscode.window.showInformationMessage(`Portway: port ${port}${processName ? ` (${processName})` : ''} is listening. Share it?`, 'Share', "Don't Ask Again");
    if (choice === 'Share') await vscode.commands.executeCommand(Command.SharePort, port);
    if (choice === "Don't Ask Again") await vscode.workspace.getConfiguration(Setting.Section).update(Setting.OfferToShareNewPorts, false, vscode.ConfigurationTarget.Global);
  }

  dispose(): void {
    clearInterval(this.timer);
    this.didSee.dispose();
  }
}
