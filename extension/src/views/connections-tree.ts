/** The Connections view: live connections through the tunnel, then the most recent closed ones. */
import * as vscode from 'vscode';
import type { TunnelSession } from '../tunnel-session';
import { describeConnection, type ConnectionEntry } from './connections-model';
import { treeItemOf } from './tree-item';

export class ConnectionsTreeProvider implements vscode.TreeDataProvider<ConnectionEntry>, vscode.Disposable {
  private readonly didChange = new vscode.EventEmitter<ConnectionEntry[] | void>();
  readonly onDidChangeTreeData = this.didChange.event;
  private readonly subscriptions: vscode.Disposable[];
  private view: vscode.TreeView<ConnectionEntry> | undefined;

  constructor(private readonly session: TunnelSession) {
    this.subscriptions = [
      session.onDidChangeConnections(() => {
        this.didChange.fire();
        this.updateBadge();
      }),
      // Live byte counts: only the rows that changed are redrawn, the rest of the tree stays put.
      session.onDidUpdateConnectionBytes((changed) => this.didChange.fire(changed)),
    ];
  }

  /** The view this provider fills, for its badge (open connection count). */
  attach(view: vscode.TreeView<ConnectionEntry>): void {
    this.view = view;
    this.updateBadge();
  }

  private updateBadge(): void {
    if (!this.view) return;
    const open = this.session.connections.openCount;
    this.view.badge = open > 0 ? { value: open, tooltip: `${open} open connection(s)` } : undefined;
  }

  getChildren(element?: ConnectionEntry): ConnectionEntry[] {
    return element ? [] : this.session.connections.entries();
  }

  getTreeItem(entry: ConnectionEntry): vscode.TreeItem {
    return treeItemOf(describeConnection(entry), entry.id + (entry.closedAt === undefined ? '' : ':closed'));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.didChange.dispose();
  }
}
