/**
 * The Connections view. With the request inspector on: one row per HTTP request (newest first),
 * plus the connections the inspector cannot read (TCP ports, TLS passthrough). Without it: one
 * row per connection. Visitors the firewall dropped have rows of their own. Open connections first,
 * then the most recent closed ones; the history stays when the agent restarts.
 */
import * as vscode from 'vscode';
import type { RequestsSession } from '../inspector/requests-session';
import type { InspectorRow } from '../inspector/webview-messages';
import type { TunnelSession } from '../tunnel-session';
import { describeBlocked, describeConnection, type BlockedEntry, type ConnectionEntry } from './connections-model';
import { describeRequest } from './request-rows';
import { treeItemOf } from './tree-item';
import { Command } from '../ids';

/** Most request rows the tree shows (the inspector holds more). */
export const MAX_REQUEST_ROWS = 200;

type Row = ConnectionEntry | InspectorRow | BlockedEntry;
const isRequest = (row: Row): row is InspectorRow => 'key' in row && !('firstAt' in row);
const isBlocked = (row: Row): row is BlockedEntry => 'firstAt' in row;

export class ConnectionsTreeProvider implements vscode.TreeDataProvider<Row>, vscode.Disposable {
  private readonly didChange = new vscode.EventEmitter<Row[] | void>();
  readonly onDidChangeTreeData = this.didChange.event;
  private readonly subscriptions: vscode.Disposable[];
  private view: vscode.TreeView<Row> | undefined;

  constructor(
    private readonly session: TunnelSession,
    private readonly requests: RequestsSession,
  ) {
    const requestChanges = requests.store.onDidChange((changed, all) => this.didChange.fire(all || changed.some((r) => r.state === 'pending') ? undefined : changed));
    this.subscriptions = [
      session.onDidChangeConnections(() => {
        this.didChange.fire();
        this.updateBadge();
      }),
      // Live byte counts: only the rows that changed are redrawn, the rest of the tree stays put.
      session.onDidUpdateConnectionBytes((changed) => this.didChange.fire(changed)),
      session.onDidChangeRoutes(() => this.didChange.fire()),
      new vscode.Disposable(() => requestChanges.dispose()),
    ];
  }

  /** The view this provider fills, for its badge (open connection count). */
  attach(view: vscode.TreeView<Row>): void {
    this.view = view;
    this.updateBadge();
  }

  private updateBadge(): void {
    if (!this.view) return;
    const open = this.session.connections.openCount;
    this.view.badge = open > 0 ? { value: open, tooltip: `${open} open connection(s)` } : undefined;
  }

  /** Connections whose requests the inspector cannot see: TCP ports, and TLS passed through unopened. */
  private unreadable(c: ConnectionEntry): boolean {
    if (c.route.kind === 'tcp') return true;
    const domain = c.route.domain;
    const route = this.session.routes.http.find((r) => r.domain === domain);
    return route?.kind === 'passthrough' || route?.tls === 'passthrough';
  }

  getChildren(element?: Row): Row[] {
    if (element) return [];
    const model = this.session.connections;
    const connections = model.entries();
    // Blocked visitors first: nothing else shows them, and they are what one looks for when "it does not load".
    if (!this.requests.enabled) return [...model.blockedEntries(), ...connections];
    return [...model.blockedEntries(), ...connections.filter((c) => this.unreadable(c)), ...this.requests.store.list().slice(0, MAX_REQUEST_ROWS)];
  }

  getTreeItem(row: Row): vscode.TreeItem {
    if (isBlocked(row)) return treeItemOf(describeBlocked(row), row.key);
    if (isRequest(row)) {
      const item = treeItemOf(describeRequest(row), `request:${row.key}`);
      item.command = { command: Command.InspectRequests, title: 'Inspect Requests', arguments: [row.route] };
      return item;
    }
    return treeItemOf(describeConnection(row), row.id + (row.closedAt === undefined ? '' : ':closed'));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.didChange.dispose();
  }
}
