import { AgentRuntime } from '../../runtime/agent-runtime';
import type { Command } from '../command';
import { runInForeground } from '../run-in-foreground';

export const startCommand: Command = {
  path: ['start'],
  summary: 'Connect to the relay and serve the routes (rule changes apply without a restart)',
  flags: [],
  async run(_flags, ctx) {
    return runInForeground(new AgentRuntime(ctx.configPath), ctx);
  },
};
