/**
 * Portway for VS Code: wiring only. Each view has its provider class, each group of commands
 * its class; everything created goes into context.subscriptions.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AgentClient } from './agent/agent-client';
import { RelayCommands } from './commands/relay-commands';
import { RouteCommands } from './commands/route-commands';
import { SharePortCommand } from './commands/share-port';
import { showError } from './errors';
import { Command, Setting, View } from './ids';
import { InspectorCommands } from './inspector/inspector-commands';
import { RequestsSession } from './inspector/requests-session';
import { Log } from './log';
import { PortWatcher } from './port-watcher';
import { TunnelSession } from './tunnel-session';
import { ConnectionsTreeProvider } from './views/connections-tree';
import { RoutesTreeProvider } from './views/routes-tree';
import { TunnelStatusBar } from './views/status-bar';

/** What tests inside the extension host may reach through `extension.exports`. */
export interface PortwayApi {
  session: TunnelSession;
  client: AgentClient;
}

let client: AgentClient | undefined;

export function activate(context: vscode.ExtensionContext): PortwayApi {
  const log = new Log();
  const configPath = path.join(context.globalStorageUri.fsPath, 'agent', 'config.json');
  client = new AgentClient({ agentScript: path.join(context.extensionPath, 'dist', 'portway.js'), configPath, log });
  const session = new TunnelSession(client, context.secrets, log, context.globalState);
  const requests = new RequestsSession(client, log);
  const ports = new PortWatcher(session);
  const relay = new RelayCommands(session, context.secrets, log);
  const routesProvider = new RoutesTreeProvider(session, ports.onDidSee);
  const connectionsProvider = new ConnectionsTreeProvider(session, requests);
  const routesView = vscode.window.createTreeView(View.Routes, { treeDataProvider: routesProvider, showCollapseAll: true });
  const connectionsView = vscode.window.createTreeView(View.Connections, { treeDataProvider: connectionsProvider });
  connectionsProvider.attach(connectionsView);

  context.subscriptions.push(
    log,
    client,
    session,
    routesProvider,
    connectionsProvider,
    connectionsView,
    routesView,
    new TunnelStatusBar(session),
    ports,
    ...relay.register(),
    ...new SharePortCommand(session, relay, () => ports.shareable()).register(),
    ...new RouteCommands(session, () => routesView.selection[0]).register(),
    requests,
    ...new InspectorCommands(context.extensionUri, requests, session).register(),
    client.onDidGiveUp((crashes) => {
      void vscode.window
        .showErrorMessage(`Portway: the agent crashed ${crashes} times in the last 3 minutes and will not be restarted.`, 'Show Log', 'Restart Agent')
        .then((choice) => {
          if (choice === 'Show Log') log.show();
          if (choice === 'Restart Agent') void vscode.commands.executeCommand(Command.RestartAgent);
        });
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(`${Setting.Section}.${Setting.RelayUrl}`)) return;
      const relayUrl = (vscode.workspace.getConfiguration(Setting.Section).get<string>(Setting.RelayUrl) ?? '').trim();
      session.settingChanged(relayUrl).catch((err) => showError(`Portway: could not use the relay ${relayUrl}`, err));
    }),
  );

  client.ready().catch((err: Error) => {
    log.error(err.message);
    void showError('Portway: the agent did not start', err);
  });
  return { session, client };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
