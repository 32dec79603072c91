/** The Routes view: HTTP routes and TCP ports with their destinations; firewall rules under each. */
import * as vscode from 'vscode';
import type { TunnelSession } from '../tunnel-session';
import { childNodes, describeNode, rootNodes, type RouteNode } from './routes-model';

export class RoutesTreeProvider implements vscode.TreeDataProvider<RouteNode>, vscode.Disposable {
  private readonly didChange = new vscode.EventEmitter<RouteNode | undefined>();
  readonly onDidChangeTreeData = this.didChange.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly session: TunnelSession) {
    this.subscription = session.onDidChangeRoutes(() => this.didChange.fire(undefined));
  }

  getChildren(element?: RouteNode): RouteNode[] {
    return element ? childNodes(element) : rootNodes(this.session.routes);
  }

  getTreeItem(node: RouteNode): vscode.TreeItem {
    const view = describeNode(node);
    const item = new vscode.TreeItem(
      view.label,
      view.collapsible === 'expanded' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    item.id = node.id;
    item.description = view.description;
    item.tooltip = view.tooltip;
    item.contextValue = view.contextValue;
    item.iconPath = new vscode.ThemeIcon(view.icon);
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.didChange.dispose();
  }
}
