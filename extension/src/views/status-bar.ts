/**
 * The one status-bar item: connecting (spinner), online (hostname), offline (reason), stopped.
 * Clicking it offers what makes sense in that state (copy / open / stop, or start / share).
 */
import * as vscode from 'vscode';
import { Command, type CommandId } from '../ids';
import type { TunnelSession } from '../tunnel-session';
import { statusView } from './status-model';

interface MenuItem extends vscode.QuickPickItem {
  command: CommandId;
  args?: unknown[];
}

export class TunnelStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly session: TunnelSession) {
    this.item = vscode.window.createStatusBarItem('portway.status', vscode.StatusBarAlignment.Left, 100);
    this.item.name = 'Portway';
    this.item.command = Command.StatusMenu;
    this.disposables.push(
      this.item,
      session.onDidChangeStatus(() => this.render()),
      session.client.onDidGiveUp(() => this.render()),
      session.client.onDidStart(() => this.render()),
      vscode.commands.registerCommand(Command.StatusMenu, () => this.showMenu()),
    );
    this.render();
    this.item.show();
  }

  private render(): void {
    const view = statusView(this.session.status, this.session.client.hasGivenUp);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  async showMenu(): Promise<void> {
    const status = this.session.status;
    const items: MenuItem[] = [];
    if (this.session.client.hasGivenUp) {
      items.push({ label: '$(debug-restart) Restart Agent', command: Command.RestartAgent }, { label: '$(output) Show Log', command: Command.ShowLog });
    } else if (status.state === 'online') {
      const url = status.url ?? '';
      items.push(
        { label: '$(copy) Copy URL', description: url, command: Command.CopyUrl, args: [url] },
        { label: '$(link-external) Open in Browser', description: url, command: Command.OpenUrl, args: [url] },
        { label: '$(device-mobile) Show QR Code', description: url, command: Command.ShowQrCode, args: [url] },
        { label: '$(inspect) Inspect Requests', command: Command.InspectRequests },
        { label: '$(add) Share Another Port…', command: Command.SharePort },
        { label: '$(debug-stop) Stop Sharing', command: Command.StopSharing },
      );
    } else if (status.state === 'stopped') {
      if (status.configured) items.push({ label: '$(play) Start Sharing', description: status.relayUrl, command: Command.StartTunnel });
      items.push({ label: '$(add) Share Port…', command: Command.SharePort });
    } else {
      items.push(
        { label: '$(refresh) Retry Now', description: status.reason, command: Command.RetryNow },
        { label: '$(debug-stop) Stop Sharing', command: Command.StopSharing },
        { label: '$(debug-restart) Restart Agent', command: Command.RestartAgent },
      );
    }
    items.push({ label: '$(settings-gear) Configure Relay…', description: status.relayUrl, command: Command.ConfigureRelay }, { label: '$(output) Show Log', command: Command.ShowLog });
    const picked = await vscode.window.showQuickPick(items, { title: `Portway: ${statusView(status).text.replace(/^\$\([^)]*\)\s*/, '')}` });
    if (picked) await vscode.commands.executeCommand(picked.command, ...(picked.args ?? []));
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
