import type { AgentRuntime } from '../runtime/agent-runtime';
import type { TunnelState } from '../tunnel/tunnel-client';
import type { CommandContext } from './command';
import { httpRoutesTable, tcpPortsTable } from './route-rows';

/**
 * Runs the agent in the foreground (`portway start`, `http`, `tcp`): prints each state change
 * and route reload, and resolves with the exit code on Ctrl-C / SIGTERM (0) or a fatal refusal (1).
 * `onOnline` adds lines of the command's own once the tunnel is up.
 */
export function runInForeground(runtime: AgentRuntime, ctx: CommandContext, onOnline?: (state: TunnelState) => void): Promise<number> {
  return new Promise<number>((resolve) => {
    runtime.on('state', (state) => {
      switch (state.status) {
        case 'connecting':
          ctx.out(state.attempt === 1 ? 'Connecting...' : `Connecting (attempt ${state.attempt})...`);
          break;
        case 'online':
          ctx.out(`Connected to ${state.relayUrl} as ${state.hostname}`);
          ctx.out('');
          ctx.out('Running HTTP services:');
          ctx.out(httpRoutesTable(runtime.currentConfig));
          if (runtime.currentConfig.tcp.length > 0) ctx.out(`Running TCP services:\n${tcpPortsTable(runtime.currentConfig)}`);
          onOnline?.(state);
          break;
        case 'offline':
          if (state.fatal) {
            ctx.err(`portway: ${state.reason}`);
            runtime.stop();
            resolve(1);
          } else {
            ctx.out(`Disconnected: ${state.reason}; reconnecting in ${((state.retryInMs ?? 0) / 1000).toFixed(1)} s`);
          }
          break;
      }
    });
    runtime.on('config', () => {
      ctx.out('Configuration changed; routes reloaded:');
      ctx.out(httpRoutesTable(runtime.currentConfig));
      if (runtime.currentConfig.tcp.length > 0) ctx.out(tcpPortsTable(runtime.currentConfig));
    });
    runtime.on('routesApplied', (rejected) => {
      for (const r of rejected) ctx.err(`portway: the relay refused ${r.route}: ${r.reason}`);
      ctx.out('Relay applied the routes and firewall rules');
    });
    runtime.on('configError', (err) => ctx.err(`portway: ${err.message} (keeping the previous routes)`));
    runtime.on('log', (line) => ctx.err(line));
    const stop = () => {
      runtime.stop();
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    runtime.start();
  });
}
