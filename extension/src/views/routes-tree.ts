/** The Routes view: HTTP routes and TCP ports with their state and destinations; firewall rules under each. */
import * as vscode from 'vscode';
import { ListeningPortsRequest } from '../../../protocol/rpc';
import type { TunnelSession } from '../tunnel-session';
import type { RouteStateContext } from './route-state';
import { childNodes, describeRouteRow, rootNodes, type RouteNode } from './routes-model';
import { treeItemOf } from './tree-item';

export class RoutesTreeProvider implements vscode.TreeDataProvider<RouteNode>, vscode.Disposable {
  private readonly didChange = new vscode.EventEmitter<RouteNode | undefined>();
  readonly onDidChangeTreeData = this.didChange.event;
  private readonly subscriptions: vscode.Disposable[];
  /** Local ports found listening at the last look (routes or state changed): "nothing listening" rows. */
  private listening: ReadonlySet<number> | undefined;

  constructor(private readonly session: TunnelSession) {
    this.subscriptions = [
      session.onDidChangeRoutes(() => this.refresh()),
      session.onDidChangeStatus(() => this.refresh()),
      session.client.onDidGiveUp(() => this.didChange.fire(undefined)),
    ];
  }

  /** Redraws at once, then again once the listening ports are known. */
  private refresh(): void {
    this.didChange.fire(undefined);
    this.session.client
      .request(ListeningPortsRequest.type)
      .then((ports) => {
        this.listening = new Set(ports.map((p) => p.port));
        this.didChange.fire(undefined);
      })
      .catch(() => undefined);
  }

  private stateContext(): RouteStateContext {
    return { tunnel: this.session.status.state, agentDown: this.session.client.hasGivenUp, listening: this.listening };
  }

  getChildren(element?: RouteNode): RouteNode[] {
    return element ? childNodes(element) : rootNodes(this.session.routes);
  }

  getTreeItem(node: RouteNode): vscode.TreeItem {
    return treeItemOf(describeRouteRow(node, this.stateContext()), node.id);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.didChange.dispose();
  }
}
