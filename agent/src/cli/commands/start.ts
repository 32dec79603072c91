import { AgentRuntime } from '../../runtime/agent-runtime';
import type { Command } from '../command';
import { inspectFlag, inspectorLine, serveInspectorIfAsked } from '../inspect-flag';
import { runInForeground } from '../run-in-foreground';

export const startCommand: Command = {
  path: ['start'],
  summary: 'Connect to the relay and serve the routes (rule changes apply without a restart)',
  flags: [inspectFlag],
  async run(flags, ctx) {
    const runtime = new AgentRuntime(ctx.configPath);
    const inspector = await serveInspectorIfAsked(flags, runtime);
    if (inspector) ctx.out(inspectorLine(inspector.url));
    try {
      return await runInForeground(runtime, ctx);
    } finally {
      inspector?.server.close();
    }
  },
};
