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
  const session = new TunnelSession(client, context.secrets, log);
  const requests = new RequestsSession(client, log);
  const relay = new RelayCommands(session, context.secrets, log);
  const routesProvider = new RoutesTreeProvider(session);
  const connectionsProvider = new ConnectionsTreeProvider(session, requests);
  const connectionsView = vscode.window.createTreeView(View.Connections, { treeDataProvider: connectionsProvider });
  connectionsProvider.attach(connectionsView);

  context.subscriptions.push(
    log,
    client,
    session,
    routesProvider,
    connectionsProvider,
    connectionsView,
    vscode.window.createTreeView(View.Routes, { treeDataProvider: routesProvider, showCollapseAll: true }),
    new TunnelStatusBar(session),
    ...relay.register(),
    ...new SharePortCommand(session, relay).register(),
    ...new RouteCommands(session).register(),
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
      if (relayUrl && relayUrl !== session.status.relayUrl) {
        session.applyRelaySetting(relayUrl).catch((err) => showError(`Portway: could not use the relay ${relayUrl}`, err));
      }
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
