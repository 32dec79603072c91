import { loadConfig, updateConfig } from '../../config/config-file';
import { publicTcpAddress } from '../../config/public-address';
import { DEFAULT_TCP_DESTINATION, recordTcpAllocation, removeTcpRoute, setTcpForward, TcpPortError } from '../../config/tcp-routes';
import { relayTcpPorts, releaseOnRelay } from '../../tunnel/relay-tcp-ports';
import { UsageError } from '../../config/usage-error';
import type { FlagSpec } from '../args';
import type { Command } from '../command';
import { tcpPortsTable } from '../route-rows';
import { formatHostPort } from '../../../../common/net/host-port';

const PORT: FlagSpec = { name: 'port', type: 'port', placeholder: 'N', description: 'the allocated port on the relay', required: true };

/** Mistakes in what the user asked exit 2 (usage); the relay's other refusals exit 1 (also used by `portway tcp`). */
function forCli(err: unknown): unknown {
  if (!(err instanceof TcpPortError)) return err;
  const usage = err.code === 'invalid-port' || err.code === 'not-yours' || err.code === 'not-allocated' || err.code === 'invalid-destination';
  return usage ? new UsageError(err.message) : new Error(err.message);
}

export async function cliErrors<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw forCli(err);
  }
}

export const routeTcpAllocateCommand: Command = {
  path: ['route', 'tcp', 'allocate'],
  summary: 'Allocate a TCP port on the relay for this agent',
  flags: [{ name: 'port', type: 'port', placeholder: 'N', description: "ask for this port of the relay's range instead of any free one" }],
  details: `The port stays this agent's (across reconnects and relay restarts) until \`route tcp release\`.
Then forward it: portway route tcp forward --port N --destination 127.0.0.1 --dstport 22`,
  async run(flags, ctx) {
    const config = loadConfig(ctx.configPath);
    const allocation = await cliErrors(() => relayTcpPorts.allocate(config, flags.port as number | undefined));
    const updated = updateConfig(ctx.configPath, (c) => void recordTcpAllocation(c, allocation.port));
    ctx.out(`Allocated port ${allocation.port}`);
    ctx.out(`Public address: ${publicTcpAddress(updated.relay.url, updated.hostname, allocation.port)}`);
    ctx.out(`Forward it with: portway route tcp forward --port ${allocation.port} --destination ${DEFAULT_TCP_DESTINATION} --dstport PORT`);
  },
};

export const routeTcpForwardCommand: Command = {
  path: ['route', 'tcp', 'forward'],
  summary: 'Forward an allocated TCP port to a local address (again on the same port replaces it)',
  flags: [
    PORT,
    { name: 'destination', type: 'string', placeholder: 'IP', description: `address of the local service (default ${DEFAULT_TCP_DESTINATION})` },
    { name: 'dstport', type: 'port', placeholder: 'P', description: 'port of the local service', required: true },
  ],
  details: `Example:
  portway route tcp forward --port 22001 --destination 127.0.0.1 --dstport 22`,
  async run(flags, ctx) {
    const port = flags.port as number;
    const destination = (flags.destination as string | undefined) ?? DEFAULT_TCP_DESTINATION;
    let target = '';
    await cliErrors(() =>
      updateConfig(ctx.configPath, (config) => {
        const route = setTcpForward(config, port, destination, flags.dstport as number);
        target = formatHostPort(route.destination, route.dstport);
      }),
    );
    ctx.out(`Forwarding port ${port} to ${target}`);
  },
};

export const routeTcpReleaseCommand: Command = {
  path: ['route', 'tcp', 'release'],
  summary: 'Give an allocated TCP port back to the relay and remove its forward',
  flags: [PORT],
  async run(flags, ctx) {
    const port = flags.port as number;
    const config = loadConfig(ctx.configPath);
    const relayHadIt = await cliErrors(() => releaseOnRelay(config, port));
    if (!relayHadIt) ctx.err(`portway: the relay no longer had port ${port} for this agent; removing it from the config`);
    if (config.tcp.some((t) => t.port === port)) updateConfig(ctx.configPath, (c) => removeTcpRoute(c, port));
    ctx.out(`Released port ${port}`);
  },
};

export const routeTcpListCommand: Command = {
  path: ['route', 'tcp', 'ls'],
  summary: 'List allocated TCP ports and their forwards',
  flags: [{ name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(flags, ctx) {
    const config = loadConfig(ctx.configPath);
    ctx.out(flags.json ? JSON.stringify(config.tcp, null, 2) : tcpPortsTable(config));
  },
};

