/** The "Portway" output channel: the extension's own messages and the agent's stderr and log. */
import * as vscode from 'vscode';
import type { LogDidWriteNotification } from '../../protocol/rpc';

export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('Portway', { log: true });
  }

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  error(message: string): void {
    this.channel.error(message);
  }

  /** A line the agent wrote to stderr. */
  agent(line: string): void {
    this.channel.info(`[agent] ${line}`);
  }

  /** A `log/didWrite` notification from the agent. */
  agentEntry(entry: LogDidWriteNotification.Params): void {
    const text = `[agent] ${entry.message}`;
    switch (entry.level) {
      case 'error':
        return this.channel.error(text);
      case 'warn':
        return this.channel.warn(text);
      case 'debug':
        return this.channel.debug(text);
      default:
        return this.channel.info(text);
    }
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
