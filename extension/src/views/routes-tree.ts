/** The Routes view: HTTP routes and TCP ports with their state and destinations; firewall rules under each. */
import * as vscode from 'vscode';
import { ListeningPortsRequest, type ListeningPort } from '../../../protocol/rpc';
import type { TunnelSession } from '../tunnel-session';
import type { RouteStateContext } from './route-state';
import { childNodes, describeRouteRow, rootNodes, type RouteNode } from './routes-model';
import { treeItemOf } from './tree-item';

export class RoutesTreeProvider implements vscode.TreeDataProvider<RouteNode>, vscode.Disposable {
  private readonly didChange = new vscode.EventEmitter<RouteNode | undefined>();
  readonly onDidChangeTreeData = this.didChange.event;
  private readonly subscriptions: vscode.Disposable[];
  /** Local ports found listening at the last look (routes or state changed, or the port watcher's poll): "nothing listening" rows. */
  private listening: ReadonlySet<number> | undefined;

  constructor(
    private readonly session: TunnelSession,
    onDidSeePorts: vscode.Event<ListeningPort[]>,
  ) {
    this.subscriptions = [
      onDidSeePorts((ports) => this.sawPorts(ports)),
      session.onDidChangeRoutes(() => this.refresh()),
      session.onDidChangeStatus(() => this.refresh()),
      session.client.onDidGiveUp(() => this.didChange.fire(undefined)),
    ];
  }

  /**
   * Redraws at once, then again once the listening ports are known. Asks only a running agent: a
   * request would start one, even while its exit is being handled or after the restart budget is spent.
   */
  private refresh(): void {
    this.didChange.fire(undefined);
    if (!this.session.client.running) return;
    this.session.client
      .request(ListeningPortsRequest.type)
      .then((ports) => this.sawPorts(ports, true))
      .catch(() => undefined);
  }

  /**
   * Redraws when a route's destination started or stopped listening, or when `always`; the
   * machine's other ports coming and going redraw nothing.
   */
  private sawPorts(ports: ListeningPort[], always = false): void {
    const before = this.listening;
    const now = new Set(ports.map((p) => p.port));
    this.listening = now;
    const { http, tcp } = this.session.routes;
    const routePorts = [...http.map((r) => r.httpPort), ...tcp.map((r) => r.destinationPort)].filter((p): p is number => p !== undefined);
    const changed = !before || routePorts.some((p) => before.has(p) !== now.has(p));
    if (changed || always) this.didChange.fire(undefined);
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
