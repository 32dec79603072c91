/**
 * The request inspector's and QR code's commands: "Inspect Requests" (palette, the Connections
 * view's title, a route's context menu: then narrowed to that route) and "Show QR Code"
 * (status-bar menu, a route's context menu).
 */
import * as vscode from 'vscode';
import { Command } from '../ids';
import { QrCodePanel } from '../qr/qr-code-panel';
import type { TunnelSession } from '../tunnel-session';
import type { RouteNode } from '../views/routes-model';
import { InspectorPanel } from './inspector-panel';
import type { RequestsSession } from './requests-session';

export class InspectorCommands {
  private readonly inspector: InspectorPanel;
  private readonly qr = new QrCodePanel();

  constructor(
    extensionUri: vscode.Uri,
    requests: RequestsSession,
    private readonly session: TunnelSession,
  ) {
    this.inspector = new InspectorPanel(extensionUri, requests, (route) => session.routes.http.find((r) => r.domain === route)?.url);
  }

  register(): vscode.Disposable[] {
    return [
      this.inspector,
      this.qr,
      vscode.commands.registerCommand(Command.InspectRequests, (node?: RouteNode | string) => {
        this.inspector.show(typeof node === 'string' ? node : node?.kind === 'http' ? node.route.domain : undefined);
      }),
      vscode.commands.registerCommand(Command.ShowQrCode, (node?: RouteNode | string) => this.showQr(node)),
    ];
  }

  private async showQr(node?: RouteNode | string): Promise<void> {
    let url = typeof node === 'string' ? node : node?.kind === 'http' ? node.route.url : undefined;
    if (!url && node === undefined) {
      const urls = [...new Set([this.session.status.url, ...this.session.routes.http.map((r) => r.url)].filter((u): u is string => !!u))];
      url = urls.length <= 1 ? urls[0] : await vscode.window.showQuickPick(urls, { title: 'Portway: Show QR Code', placeHolder: 'Which public URL?' });
      if (!url && urls.length === 0) {
        void vscode.window.showInformationMessage('Portway: nothing is shared yet, so there is no public URL to show. Share a port first.');
        return;
      }
    }
    if (!url || !/^https?:\/\//.test(url)) return;
    await this.qr.show(url);
  }
}
