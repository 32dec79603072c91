/**
 * Portway: Share Port… — pick a listening port (or type one, or pick a folder), optionally a
 * subdomain; the route is added, the tunnel started, and the public URL shown with Copy / Open.
 */
import * as vscode from 'vscode';
import { RouteAddRequest, RpcErrorCode, type HttpRoute, type ListeningPort } from '../../../protocol/rpc';
import { errorCode, showError } from '../errors';
import { Command } from '../ids';
import type { TunnelSession } from '../tunnel-session';
import { portItems, typedPort, validateSubdomain } from './inputs';
import type { RelayCommands } from './relay-commands';
import { routeReplacedBy, suggestSubdomain } from './subdomain-choice';
import { destinationText } from '../views/routes-model';

/** A port (on `destination`, when it listens on a specific address only) or a folder to serve. */
type Target = { kind: 'port'; port: number; destination?: string } | { kind: 'folder'; path: string };

interface TargetItem extends vscode.QuickPickItem {
  target?: Target;
  folder?: true;
  /** The typed text is not a port: accepting it does nothing. */
  invalid?: true;
}

export class SharePortCommand {
  constructor(
    private readonly session: TunnelSession,
    private readonly relay: RelayCommands,
    /** Listening ports minus Portway's and the editor's own. */
    private readonly listPorts: () => Promise<ListeningPort[]>,
  ) {}

  register(): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand(Command.SharePort, (port?: number) => this.run(typeof port === 'number' ? port : undefined)),
      vscode.commands.registerCommand(Command.AddRoute, () => this.run()),
    ];
  }

  async run(presetPort?: number): Promise<HttpRoute | undefined> {
    if (!(await this.relay.ensureConfigured())) return undefined;
    const target: Target | undefined = presetPort !== undefined ? { kind: 'port', port: presetPort } : await this.pickTarget();
    if (!target) return undefined;
    const subdomain = await this.askSubdomain(target);
    if (subdomain === undefined) return undefined;
    const params: RouteAddRequest.Params = {
      domain: subdomain.trim().toLowerCase() || undefined,
      ...(target.kind === 'port' ? { httpPort: target.port, destination: target.destination } : { webroot: target.path }),
    };
    let route: HttpRoute;
    try {
      route = await this.addRoute(params);
    } catch (err) {
      if (errorCode(err) !== RpcErrorCode.PortNotListening || target.kind !== 'port') {
        await showError(`Portway: could not share ${target.kind === 'port' ? `port ${target.port}` : target.path}`, err);
        return undefined;
      }
      const choice = await vscode.window.showWarningMessage(
        `Portway: nothing is listening on port ${target.port} yet. Share it anyway? Visitors get an error page until your server starts.`,
        'Share Anyway',
        'Cancel',
      );
      if (choice !== 'Share Anyway') return undefined;
      try {
        route = await this.addRoute({ ...params, requireListening: false });
      } catch (again) {
        await showError(`Portway: could not share port ${target.port}`, again);
        return undefined;
      }
    }
    let status;
    try {
      status = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Portway: connecting…' }, () => this.session.start());
    } catch (err) {
      await showError('Portway: the route was added but the tunnel did not start', err);
      return route;
    }
    if (status.state !== 'online') {
      await showError('Portway: the route was added but the tunnel is offline', new Error(status.reason ?? 'not connected'), status.errorCode);
      return route;
    }
    const what = target.kind === 'port' ? `port ${target.port}` : target.path;
    void vscode.window.showInformationMessage(`Portway: sharing ${what} at ${route.url}`, 'Copy URL', 'Open in Browser').then((choice) => {
      if (choice === 'Copy URL') void vscode.commands.executeCommand(Command.CopyUrl, route.url);
      if (choice === 'Open in Browser') void vscode.commands.executeCommand(Command.OpenUrl, route.url);
    });
    return route;
  }

  /** The subdomain, '' for the hostname itself; a free one is offered, and replacing a route is confirmed. */
  private async askSubdomain(target: Target): Promise<string | undefined> {
    const hostname = this.session.status.hostname ?? 'your hostname';
    const routes = this.session.routes.http;
    const replaced = (value: string) => (validateSubdomain(value) ? undefined : routeReplacedBy(routes, hostname, value));
    const subdomain = await vscode.window.showInputBox({
      title: 'Portway: Subdomain (optional)',
      prompt: `Share at <name>.${hostname}, or leave empty for ${hostname} itself`,
      placeHolder: 'e.g. app',
      value: suggestSubdomain(routes, hostname, target.kind === 'port' ? { port: target.port } : { folder: target.path }),
      ignoreFocusOut: true,
      validateInput: (value) => {
        const invalid = validateSubdomain(value);
        if (invalid) return invalid;
        const old = replaced(value);
        return old ? { message: `${old.domain} already shares ${destinationText(old)}; this would replace it`, severity: vscode.InputBoxValidationSeverity.Warning } : undefined;
      },
    });
    if (subdomain === undefined) return undefined;
    const old = replaced(subdomain);
    if (!old) return subdomain;
    const ok = await vscode.window.showWarningMessage(`${old.domain} already shares ${destinationText(old)}. Replace it?`, { modal: true }, 'Replace');
    return ok === 'Replace' ? subdomain : undefined;
  }

  private async addRoute(params: RouteAddRequest.Params): Promise<HttpRoute> {
    const route = await this.session.client.request(RouteAddRequest.type, params);
    await this.session.refreshRoutes();
    return route;
  }

  private async pickTarget(): Promise<Target | undefined> {
    const pick = vscode.window.createQuickPick<TargetItem>();
    pick.title = 'Portway: Share Port';
    pick.placeholder = 'Pick a listening port, or type a port number';
    pick.ignoreFocusOut = true;
    pick.matchOnDescription = true;
    pick.busy = true;
    const folderItem: TargetItem = { label: '$(folder) Serve a folder…', description: 'static files', folder: true, alwaysShow: true };
    let portList: TargetItem[] = [];
    const update = () => {
      const typed = typedPort(pick.value);
      const typedItem: TargetItem[] =
        typed === undefined
          ? []
          : 'error' in typed
            ? [{ label: `$(error) ${typed.error}`, alwaysShow: true, invalid: true }]
            : portList.some((i) => i.target?.kind === 'port' && i.target.port === typed.port)
              ? []
              : [{ label: `$(edit) Share port ${typed.port}`, description: 'typed', target: { kind: 'port', port: typed.port }, alwaysShow: true }];
      // The folder entry first, so a long port list cannot scroll it out of view.
      pick.items = [...typedItem, folderItem, { label: 'listening ports', kind: vscode.QuickPickItemKind.Separator }, ...portList];
      if (typedItem[0]) pick.activeItems = [typedItem[0]];
    };
    pick.onDidChangeValue(update);
    update();
    pick.show();
    this.listPorts()
      .then((ports) => {
        portList = portItems(ports).map((p) => ({ label: `$(radio-tower) ${p.label}`, description: p.description, target: { kind: 'port', port: p.port, destination: p.destination } }));
      })
      .catch(() => {
        portList = [];
      })
      .finally(() => {
        pick.busy = false;
        update();
      });
    const chosen = await new Promise<TargetItem | undefined>((resolve) => {
      pick.onDidAccept(() => {
        const typed = typedPort(pick.value);
        if (typed && 'error' in typed) return; // the error row says why; the picker stays open
        const item = pick.selectedItems[0];
        if (item && !item.invalid) return resolve(item);
        if (typed) resolve({ label: String(typed.port), target: { kind: 'port', port: typed.port } });
      });
      pick.onDidHide(() => resolve(undefined));
    });
    pick.dispose();
    if (!chosen) return undefined;
    if (chosen.target) return chosen.target;
    const folder = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: 'Serve This Folder',
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    if (!folder?.[0]) return undefined;
    return { kind: 'folder', path: folder[0].fsPath };
  }
}
