/** The Routes view: HTTP routes and TCP ports with their destinations; firewall rules under each. */
import * as vscode from 'vscode';
import type { TunnelSession } from '../tunnel-session';
import { childNodes, describeNode, rootNodes, type RouteNode } from './routes-model';
import { treeItemOf } from './tree-item';

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
    return treeItemOf(describeNode(node), node.id);
  }

  dispose(): void {
    this.subscription.dispose();
    this.didChange.dispose();
  }
}
