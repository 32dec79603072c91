/**
 * Actions on routes from the Routes view (inline and context menu) or the Command Palette:
 * copy/open URL, remove a route, allocate/release a TCP port, add/remove firewall rules.
 * Invoked without a tree item, each asks which route it is about.
 */
import * as vscode from 'vscode';
import {
  FirewallAddRequest,
  FirewallRemoveRequest,
  RouteAddRequest,
  RouteRemoveRequest,
  TcpForwardRequest,
  TcpAllocateRequest,
  TcpReleaseRequest,
  type FirewallAction,
  type RouteRef,
} from '../../../protocol/rpc';
import { showError } from '../errors';
import { Command } from '../ids';
import type { TunnelSession } from '../tunnel-session';
import { hostPort, rootNodes, routeRefOf, type RouteNode } from '../views/routes-model';
import { parseDestination, parsePort, validateDestination, validateNetwork } from './inputs';

function describeRef(ref: RouteRef): string {
  return ref.kind === 'http' ? ref.domain : `TCP port ${ref.port}`;
}

export class RouteCommands {
  constructor(
    private readonly session: TunnelSession,
    /** The Routes view's focused row: keyboard shortcuts (Ctrl+C, Delete, F2, Enter) pass no argument. */
    private readonly selected: () => RouteNode | undefined = () => undefined,
  ) {}

  register(): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand(Command.CopyUrl, (arg?: RouteNode | string) => this.copyUrl(arg ?? this.selectedRoute())),
      vscode.commands.registerCommand(Command.OpenUrl, (arg?: RouteNode | string) => this.openUrl(arg ?? this.selectedRoute())),
      vscode.commands.registerCommand(Command.RemoveRoute, (node?: RouteNode) => this.removeRoute(node ?? this.selected())),
      vscode.commands.registerCommand(Command.EditRoute, (node?: RouteNode) => this.editRoute(node ?? this.selectedRoute())),
      vscode.commands.registerCommand(Command.ForwardTcpPort, (node?: RouteNode) => this.editRoute(node ?? this.selectedRoute())),
      vscode.commands.registerCommand(Command.AllocateTcpPort, () => this.allocateTcpPort()),
      vscode.commands.registerCommand(Command.ReleaseTcpPort, (node?: RouteNode) => this.releaseTcpPort(node)),
      vscode.commands.registerCommand(Command.AddAllowRule, (node?: RouteNode) => this.addRule('allow', node)),
      vscode.commands.registerCommand(Command.AddDropRule, (node?: RouteNode) => this.addRule('drop', node)),
      vscode.commands.registerCommand(Command.RemoveFirewallRule, (node?: RouteNode) => this.removeRule(node)),
      vscode.commands.registerCommand(Command.RefreshRoutes, () => this.session.refresh().catch((err) => showError('Portway: could not read the routes', err))),
    ];
  }

  /** The focused row's route (a rule row stands for its route's own actions only via its menu). */
  private selectedRoute(): RouteNode | undefined {
    const node = this.selected();
    return node?.kind === 'rule' ? undefined : node;
  }

  /** Asks for a route when a command came from the palette. */
  private async pickRoute(title: string, filter: (n: RouteNode) => boolean = () => true): Promise<RouteNode | undefined> {
    const nodes = rootNodes(this.session.routes).filter(filter);
    if (nodes.length === 0) {
      const choice = await vscode.window.showInformationMessage('Portway: nothing is shared yet.', 'Share Port…');
      if (choice) await vscode.commands.executeCommand(Command.SharePort);
      return undefined;
    }
    if (nodes.length === 1) return nodes[0];
    const picked = await vscode.window.showQuickPick(
      nodes.map((n) => ({ label: n.kind === 'http' ? n.route.domain : n.kind === 'tcp' ? `TCP ${n.route.address}` : '', node: n })),
      { title, placeHolder: 'Which route?' },
    );
    return picked?.node;
  }

  /** URL (HTTP) or address (TCP) of a node, a string argument, or the tunnel's own URL. */
  private async urlOf(arg: RouteNode | string | undefined, title: string): Promise<string | undefined> {
    if (typeof arg === 'string') return arg;
    if (arg?.kind === 'http') return arg.route.url;
    if (arg?.kind === 'tcp') return arg.route.address;
    if (arg === undefined && this.session.routes.http.length === 0 && this.session.status.url) return this.session.status.url;
    const node = await this.pickRoute(title);
    return node?.kind === 'http' ? node.route.url : node?.kind === 'tcp' ? node.route.address : undefined;
  }

  async copyUrl(arg?: RouteNode | string): Promise<void> {
    const url = await this.urlOf(arg, 'Portway: Copy URL');
    if (!url) return;
    await vscode.env.clipboard.writeText(url);
    const tcp = !/^https?:\/\//.test(url);
    void vscode.window.setStatusBarMessage(tcp ? `Portway: copied ${url} (a TCP address: host:port, e.g. ssh -p ${url.split(':').pop()} user@${url.replace(/:\d+$/, '')})` : `Portway: copied ${url}`, 5000);
  }

  async openUrl(arg?: RouteNode | string): Promise<void> {
    const url = await this.urlOf(arg, 'Portway: Open in Browser');
    if (!url) return;
    if (!/^https?:\/\//.test(url)) {
      void vscode.window.showInformationMessage(`Portway: ${url} is a TCP address; connect to it with your client (e.g. ssh -p).`);
      return;
    }
    await vscode.env.openExternal(vscode.Uri.parse(url));
  }

  async removeRoute(node?: RouteNode): Promise<void> {
    const target = node ?? (await this.pickRoute('Portway: Remove Route', (n) => n.kind === 'http'));
    if (!target) return;
    if (target.kind === 'tcp') return this.releaseTcpPort(target);
    if (target.kind === 'rule') return this.removeRule(target);
    const ok = await vscode.window.showWarningMessage(`Remove ${target.route.domain}? Visitors lose access; its firewall rules go with it.`, { modal: true }, 'Remove');
    if (ok !== 'Remove') return;
    try {
      await this.session.client.request(RouteRemoveRequest.type, { domain: target.route.domain });
      await this.session.refreshRoutes();
    } catch (err) {
      await showError(`Portway: could not remove ${target.route.domain}`, err);
    }
  }

  /** Edit destination / port of a proxy route, or forward a TCP port (also one allocated without a destination). */
  async editRoute(node?: RouteNode): Promise<void> {
    const target = node ?? (await this.pickRoute('Portway: Edit Destination / Port', (n) => n.kind === 'tcp' || (n.kind === 'http' && n.route.kind === 'proxy')));
    if (!target || target.kind === 'rule') return;
    if (target.kind === 'http' && target.route.kind !== 'proxy') {
      void vscode.window.showInformationMessage(`Portway: ${target.route.domain} serves ${target.route.kind === 'webroot' ? 'a folder' : 'TLS passthrough'}; remove it and share again to change that.`);
      return;
    }
    const current = target.kind === 'http' ? target.route.httpPort : target.route.destinationPort;
    const host = target.kind === 'http' ? target.route.destination : target.route.destination;
    const text = await vscode.window.showInputBox({
      title: target.kind === 'http' ? `Portway: Destination of ${target.route.domain}` : `Portway: Forward ${target.route.address} to`,
      prompt: 'A local port (3000), or address:port (127.0.0.2:3000, [::1]:3000)',
      value: current ? (host && host !== '127.0.0.1' && host !== 'localhost' ? hostPort(host, current) : String(current)) : '',
      ignoreFocusOut: true,
      validateInput: validateDestination,
    });
    const dest = text === undefined ? undefined : parseDestination(text);
    if (!dest) return;
    try {
      if (target.kind === 'http') {
        await this.session.client.request(RouteAddRequest.type, { domain: target.route.domain, destination: dest.destination, httpPort: dest.port, requireListening: false });
      } else {
        await this.session.client.request(TcpForwardRequest.type, { port: target.route.port, destination: dest.destination, destinationPort: dest.port });
      }
      await this.session.refreshRoutes();
    } catch (err) {
      await showError(`Portway: could not change ${describeRef(routeRefOf(target))}`, err);
    }
  }

  async allocateTcpPort(): Promise<void> {
    const text = await vscode.window.showInputBox({
      title: 'Portway: Allocate TCP Port',
      prompt: 'Local port to forward the new public port to (e.g. 22 for SSH). Leave empty to forward it later with Forward… on its row.',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() === '' || parsePort(v) !== undefined ? undefined : 'Enter a port number from 1 to 65535'),
    });
    if (text === undefined) return;
    const destinationPort = parsePort(text);
    try {
      const port = await this.session.client.request(TcpAllocateRequest.type, destinationPort ? { destination: '127.0.0.1', destinationPort } : {});
      await this.session.refreshRoutes();
      void vscode.window.showInformationMessage(`Portway: allocated ${port.address}${destinationPort ? ` → 127.0.0.1:${destinationPort}` : ''}`, 'Copy Address').then((c) => {
        if (c) void vscode.env.clipboard.writeText(port.address);
      });
    } catch (err) {
      await showError('Portway: could not allocate a TCP port', err);
    }
  }

  async releaseTcpPort(node?: RouteNode): Promise<void> {
    const target = node ?? (await this.pickRoute('Portway: Release TCP Port', (n) => n.kind === 'tcp'));
    if (target?.kind !== 'tcp') return;
    const ok = await vscode.window.showWarningMessage(`Release ${target.route.address}? Anyone using it loses access and the port may go to someone else.`, { modal: true }, 'Release');
    if (ok !== 'Release') return;
    try {
      await this.session.client.request(TcpReleaseRequest.type, { port: target.route.port });
      await this.session.refreshRoutes();
    } catch (err) {
      await showError(`Portway: could not release port ${target.route.port}`, err);
    }
  }

  async addRule(action: FirewallAction, node?: RouteNode): Promise<void> {
    const target = node ?? (await this.pickRoute(`Portway: Add ${action === 'allow' ? 'Allow' : 'Drop'} Rule`, (n) => n.kind !== 'rule'));
    if (!target) return;
    const ref = routeRefOf(target);
    const network = await vscode.window.showInputBox({
      title: `Portway: ${action === 'allow' ? 'Allow' : 'Drop'} a network on ${describeRef(ref)}`,
      prompt:
        action === 'allow'
          ? 'Only allowed networks may connect once a route has an allow rule'
          : 'Connections from this address or network are refused by the relay',
      placeHolder: '203.0.113.7, 10.0.0.0/8 or 2001:db8::/32',
      ignoreFocusOut: true,
      validateInput: validateNetwork,
    });
    if (network === undefined) return;
    try {
      await this.session.client.request(FirewallAddRequest.type, { route: ref, rule: { action, network: network.trim() } });
      await this.session.refreshRoutes();
    } catch (err) {
      await showError(`Portway: could not add the rule to ${describeRef(ref)}`, err);
    }
  }

  async removeRule(node?: RouteNode): Promise<void> {
    if (node?.kind !== 'rule') {
      void vscode.window.showInformationMessage('Portway: remove a rule from the Routes view (right-click it).');
      return;
    }
    try {
      await this.session.client.request(FirewallRemoveRequest.type, { route: node.parent, rule: node.rule });
      await this.session.refreshRoutes();
    } catch (err) {
      await showError(`Portway: could not remove the rule from ${describeRef(node.parent)}`, err);
    }
  }
}
