/**
 * Every failure becomes a message that says what happened and offers the next step.
 * Agent errors carry an RpcErrorCode (protocol/rpc.ts); the code picks the advice and actions.
 */
import * as vscode from 'vscode';
import { ResponseError } from 'vscode-jsonrpc/node';
import { RpcErrorCode, isRpcErrorCode } from '../../protocol/rpc';
import { Command, type CommandId } from './ids';

/** The RpcErrorCode of an agent error (duck-typed: a ResponseError may come from another copy of the library). */
export function errorCode(err: unknown): RpcErrorCode | undefined {
  if (err instanceof ResponseError) return isRpcErrorCode(err.code) ? err.code : undefined;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return isRpcErrorCode(code) ? code : undefined;
}

function errorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^Request \S+ failed with message: /, '');
}

interface Advice {
  hint?: string;
  actions: { title: string; command: CommandId }[];
}

const SHOW_LOG = { title: 'Show Log', command: Command.ShowLog };
const CONFIGURE = { title: 'Configure Relay', command: Command.ConfigureRelay };

export function adviceFor(code: RpcErrorCode | undefined): Advice {
  switch (code) {
    case RpcErrorCode.NotConfigured:
      return { hint: 'Configure the relay your team runs first.', actions: [CONFIGURE] };
    case RpcErrorCode.RelayUnreachable:
      return { hint: 'Check the relay URL and that the relay is running.', actions: [CONFIGURE, SHOW_LOG] };
    case RpcErrorCode.Unauthorized:
      return { hint: 'Ask your relay admin for a valid token, then configure the relay again.', actions: [CONFIGURE] };
    case RpcErrorCode.NameTaken:
      return { hint: 'Pick another name.', actions: [] };
    case RpcErrorCode.PortNotListening:
      return { hint: 'Start your local server, then share it again.', actions: [] };
    case RpcErrorCode.VersionMismatch:
      return { hint: 'The relay and this extension speak different versions; update one of them.', actions: [SHOW_LOG] };
    case RpcErrorCode.Replaced:
      return { hint: 'Start the tunnel here to take it back (the other one then stops).', actions: [{ title: 'Start Tunnel Here', command: Command.StartTunnel }] };
    case RpcErrorCode.LimitReached:
      return { hint: 'Free something up (release a port, remove a route) or ask your relay admin for a higher limit.', actions: [] };
    case RpcErrorCode.NotFound:
    case RpcErrorCode.InvalidArgument:
    case RpcErrorCode.Unsupported:
      return { actions: [] };
    default:
      return { actions: [SHOW_LOG] };
  }
}

/** Shows `what failed: why. next step` with the matching buttons, and runs the one picked. */
export async function showError(what: string, err: unknown, code: RpcErrorCode | undefined = errorCode(err)): Promise<void> {
  const advice = adviceFor(code);
  const message = `${what}: ${errorMessage(err)}${advice.hint ? `. ${advice.hint}` : ''}`;
  const picked = await vscode.window.showErrorMessage(message, ...advice.actions.map((a) => a.title));
  const action = advice.actions.find((a) => a.title === picked);
  if (action) await vscode.commands.executeCommand(action.command);
}
