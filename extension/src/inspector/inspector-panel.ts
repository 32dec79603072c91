/**
 * "Portway: Inspect Requests": one webview panel listing captured requests live, with a detail
 * pane, copy as curl and Replay. The page (webview/inspector-view.ts, bundled to
 * dist/inspector-view.js) talks to this host only through the messages of webview-messages.ts.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { curlCommand } from './curl';
import { inspectorHtml } from './inspector-html';
import type { RequestsSession } from './requests-session';
import type { FromWebview, ToWebview } from './webview-messages';

export const INSPECTOR_VIEW_TYPE = 'portway.inspector';

export class InspectorPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private pendingRoute: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly requests: RequestsSession,
    /** The public URL of a route's domain (copy as curl uses what the visitor used). */
    private readonly urlOf: (route: string) => string | undefined,
  ) {
    const subscription = requests.store.onDidChange((rows, all) => this.post({ type: 'rows', rows, all, limit: requests.store.limit }));
    this.disposables.push(new vscode.Disposable(() => subscription.dispose()));
  }

  /** Opens (or reveals) the panel; with `route`, its list is narrowed to that route. */
  show(route?: string): void {
    this.pendingRoute = route;
    if (this.panel) {
      this.panel.reveal();
      this.sendRouteFilter();
      return;
    }
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(INSPECTOR_VIEW_TYPE, 'Portway: Requests', vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [media, dist],
    });
    panel.iconPath = vscode.Uri.joinPath(media, 'portway.svg');
    const webview = panel.webview;
    webview.html = inspectorHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'inspector-view.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'inspector.css')).toString(),
    });
    this.panel = panel;
    this.ready = false;
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
    });
    webview.onDidReceiveMessage((m: FromWebview) => void this.receive(m));
  }

  private sendRouteFilter(): void {
    if (this.ready && this.pendingRoute !== undefined) {
      this.post({ type: 'filterRoute', route: this.pendingRoute });
      this.pendingRoute = undefined;
    }
  }

  private post(message: ToWebview): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(message);
  }

  private async receive(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.post({ type: 'rows', rows: this.requests.store.list(), all: true, limit: this.requests.store.limit });
        this.sendRouteFilter();
        if (!this.requests.enabled) this.post({ type: 'notice', text: 'The request inspector is off (setting portway.inspector.enabled): nothing new is captured.' });
        return;
      case 'select':
        try {
          this.post({ type: 'detail', key: m.key, request: await this.requests.detail(m.key) });
        } catch (err) {
          this.post({ type: 'detail', key: m.key, error: (err as Error).message });
        }
        return;
      case 'replay':
        try {
          this.post({ type: 'replayed', key: m.key, replay: await this.requests.replay(m.key, m.edit) });
        } catch (err) {
          this.post({ type: 'replayed', key: m.key, error: (err as Error).message });
        }
        return;
      case 'copyCurl':
        try {
          const request = await this.requests.detail(m.key);
          await vscode.env.clipboard.writeText(curlCommand(request, this.urlOf(request.route)));
          this.post({ type: 'notice', text: 'Copied as curl.' });
        } catch (err) {
          this.post({ type: 'notice', text: (err as Error).message });
        }
        return;
      case 'clear':
        await this.requests.clear().catch((err: Error) => this.post({ type: 'notice', text: err.message }));
        return;
    }
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
