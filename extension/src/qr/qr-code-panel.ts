/** "Portway: Show QR Code": the public URL of the tunnel or of one route, in one reused webview panel. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { qrHtml } from './qr-html';

export class QrCodePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;

  async show(url: string): Promise<void> {
    if (!this.panel) {
      // No scripts, no local resources: the page is one document with inline SVG.
      this.panel = vscode.window.createWebviewPanel('portway.qrCode', 'Portway: QR Code', vscode.ViewColumn.Active, { enableScripts: false, localResourceRoots: [] });
      this.panel.onDidDispose(() => (this.panel = undefined));
    } else {
      this.panel.reveal();
    }
    this.panel.title = `QR: ${new URL(url).host}`;
    this.panel.webview.html = await qrHtml(url, randomBytes(16).toString('base64'));
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
