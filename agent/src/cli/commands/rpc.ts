import { runRpcServer } from '../../rpc/server';
import type { Command } from '../command';

export const rpcCommand: Command = {
  path: ['rpc'],
  summary: 'Serve JSON-RPC on stdin/stdout (used by the VS Code extension)',
  flags: [],
  async run(_flags, ctx) {
    await runRpcServer({ configPath: ctx.configExplicit ? ctx.configPath : undefined });
  },
};
