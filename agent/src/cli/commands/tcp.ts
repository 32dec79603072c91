import { normalizeDestination } from '../../config/destination';
import { loadConfig, updateConfig } from '../../config/config-file';
import { publicTcpAddress } from '../../config/public-address';
import type { AgentConfig, TcpRouteConfig } from '../../config/schema';
import { DEFAULT_TCP_DESTINATION, isForwarded, recordTcpAllocation } from '../../config/tcp-routes';
import { AgentRuntime } from '../../runtime/agent-runtime';
import { relayTcpPorts } from '../../tunnel/relay-tcp-ports';
import type { Command, CommandContext } from '../command';
import { runInForeground } from '../run-in-foreground';
import { cliErrors } from './route-tcp';
import { formatHostPort } from '../../../../common/net/host-port';

export const tcpCommand: Command = {
  path: ['tcp'],
  summary: 'Share a local TCP port now, for as long as this runs (the relay port stays yours for next time)',
  positional: 'dstport',
  flags: [
    { name: 'dstport', type: 'port', placeholder: 'P', description: 'the local port to share (or give it bare: portway tcp 22)', required: true },
    { name: 'port', type: 'port', placeholder: 'N', description: "the relay port to use (default: one this agent holds with no forward, else a new one)" },
    { name: 'destination', type: 'string', placeholder: 'IP', description: `address of the local service (default ${DEFAULT_TCP_DESTINATION})` },
  ],
  details: `Examples:
  portway tcp 22                  share 127.0.0.1:22 on a relay port
  portway tcp 5432 --port 22005   on the relay's port 22005

The relay port is allocated to this agent and recorded in the config (see \`portway route tcp ls\`),
so the next \`portway tcp\` gets the same public address; \`portway route tcp release\` gives it back.
The forward itself lasts until Ctrl-C and is not saved.`,
  async run(flags, ctx) {
    const destination = flags.destination === undefined ? DEFAULT_TCP_DESTINATION : normalizeDestination(flags.destination as string);
    const dstport = flags.dstport as number;
    const port = await relayPortFor(ctx, flags.port as number | undefined);
    // No test connection here, unlike `portway http`: some TCP services take one client only.
    const forward: TcpRouteConfig = { port, destination, dstport, firewall: [] };
    const runtime = new AgentRuntime(ctx.configPath, { transient: { tcp: [forward] } });
    return runInForeground(runtime, ctx, () => {
      const config = runtime.currentConfig;
      ctx.out('');
      ctx.out(`Forwarding tcp://${publicTcpAddress(config.relay.url, config.hostname, port)} -> ${formatHostPort(destination, dstport)}`);
      ctx.out('(for this run only; Ctrl-C stops sharing, the relay port stays this agent\'s)');
    });
  },
};

/** The relay port to forward: the one asked for, else one held and unused, else a new one (recorded). */
async function relayPortFor(ctx: CommandContext, asked: number | undefined): Promise<number> {
  const config = loadConfig(ctx.configPath);
  const held = asked === undefined ? config.tcp.find((route) => !isForwarded(route)) : config.tcp.find((route) => route.port === asked);
  if (held) return held.port;
  const allocation = await cliErrors(() => relayTcpPorts.allocate(config, asked));
  updateConfig(ctx.configPath, (c: AgentConfig) => void recordTcpAllocation(c, allocation.port));
  ctx.out(`Allocated relay port ${allocation.port} to this agent (\`portway route tcp release --port ${allocation.port}\` gives it back)`);
  return allocation.port;
}
