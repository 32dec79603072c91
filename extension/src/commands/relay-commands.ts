/**
 * Configure Relay (the walk-through: URL, then token into SecretStorage), Start, Stop Sharing,
 * Restart Agent, Show Log.
 */
import * as vscode from 'vscode';
import { errorCode, showError } from '../errors';
import { Command, Setting, TOKEN_SECRET_KEY } from '../ids';
import type { Log } from '../log';
import type { TunnelSession } from '../tunnel-session';
import { validateRelayUrl } from './inputs';
import { RpcErrorCode } from '../../../protocol/rpc';

export class RelayCommands {
  constructor(
    private readonly session: TunnelSession,
    private readonly secrets: vscode.SecretStorage,
    private readonly log: Log,
  ) {}

  register(): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand(Command.ConfigureRelay, () => this.configureRelay()),
      vscode.commands.registerCommand(Command.StartTunnel, () => this.start()),
      vscode.commands.registerCommand(Command.StopSharing, () => this.stop()),
      vscode.commands.registerCommand(Command.RetryNow, () => this.start(true)),
      vscode.commands.registerCommand(Command.RestartAgent, () => this.restartAgent()),
      vscode.commands.registerCommand(Command.ShowLog, () => this.log.show()),
    ];
  }

  /** Makes sure a relay is configured, walking the user through it if not. False when cancelled or failed. */
  async ensureConfigured(): Promise<boolean> {
    let status = this.session.status;
    if (!status.configured) {
      await this.session.refresh().catch(() => undefined);
      status = this.session.status;
    }
    if (status.configured) return true;
    return this.configureRelay();
  }

  /** The walk-through. Returns true once the relay accepted us. */
  async configureRelay(): Promise<boolean> {
    const current = vscode.workspace.getConfiguration(Setting.Section).get<string>(Setting.RelayUrl) || this.session.status.relayUrl || '';
    let relayUrl = current;
    let token = (await this.secrets.get(TOKEN_SECRET_KEY)) ?? '';
    let askUrl = true;
    for (;;) {
      if (askUrl) {
        const url = await vscode.window.showInputBox({
          title: 'Portway: Relay URL (1/2)',
          prompt: "The URL of your team's Portway relay",
          placeHolder: 'https://relay.example.com',
          value: relayUrl,
          ignoreFocusOut: true,
          validateInput: validateRelayUrl,
        });
        if (url === undefined) return false;
        relayUrl = url.trim();
      }
      const entered = await vscode.window.showInputBox({
        title: 'Portway: Relay token (2/2)',
        prompt: 'The auth key or token your relay admin gave you. Leave empty for an open relay. It is kept in VS Code’s secret storage.',
        password: true,
        value: token,
        ignoreFocusOut: true,
      });
      if (entered === undefined) return false;
      token = entered.trim();
      try {
        const status = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Portway: connecting to ${relayUrl}…` },
          () => this.session.configureRelay(relayUrl, token || undefined),
        );
        void vscode.window.showInformationMessage(`Portway: connected to ${relayUrl}. Your hostname is ${status.hostname}.`);
        return true;
      } catch (err) {
        const code = errorCode(err);
        const message = (err as Error).message;
        // In the log its Show Log button opens, whatever happens next.
        this.log.error(`configuring the relay ${relayUrl} failed: ${message}`);
        if (code === RpcErrorCode.Unauthorized) {
          const again = await vscode.window.showErrorMessage(`Portway: the relay refused the token: ${message}`, 'Enter Token Again', 'Cancel');
          if (again !== 'Enter Token Again') return false;
          askUrl = false;
          continue;
        }
        if (code === RpcErrorCode.RelayUnreachable || code === RpcErrorCode.InvalidArgument) {
          const again = await vscode.window.showErrorMessage(`Portway: ${message}. Check the URL and that the relay is running.`, 'Edit URL', 'Show Log');
          if (again === 'Show Log') this.log.show();
          if (again !== 'Edit URL') return false;
          askUrl = true;
          continue;
        }
        await showError('Portway: could not configure the relay', err);
        return false;
      }
    }
  }

  async start(retry = false): Promise<void> {
    if (!(await this.ensureConfigured())) return;
    try {
      const status = await (retry ? this.session.retryNow() : this.session.start());
      if (status.state !== 'online') await showError('Portway: the tunnel is not online', new Error(status.reason ?? status.state), status.errorCode);
    } catch (err) {
      await showError('Portway: could not start the tunnel', err);
    }
  }

  async stop(): Promise<void> {
    try {
      await this.session.stop();
      void vscode.window.showInformationMessage('Portway: stopped sharing. Your routes are kept and stay stopped, even after a reload, until you start again from the status bar.');
    } catch (err) {
      await showError('Portway: could not stop the tunnel', err);
    }
  }

  async restartAgent(): Promise<void> {
    try {
      await this.session.client.restart();
    } catch (err) {
      await showError('Portway: the agent did not start', err);
    }
  }
}
