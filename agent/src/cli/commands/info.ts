import { loadConfig } from '../../config/config-file';
import type { Command } from '../command';
import { httpRoutesTable, tcpPortsTable } from '../route-rows';

export const infoCommand: Command = {
  path: ['info'],
  summary: 'Show the hostname, relay and routes of this agent',
  flags: [{ name: 'json', type: 'boolean', description: 'print JSON instead of tables' }],
  async run(flags, ctx) {
    const config = loadConfig(ctx.configPath);
    if (flags.json) {
      const { identity: _secret, relay, ...rest } = config;
      ctx.out(JSON.stringify({ ...rest, relay: relay.url, config: ctx.configPath }, null, 2));
      return;
    }
    ctx.out('Client:');
    ctx.out(`\tHostname: ${config.hostname ?? '(not assigned yet)'}`);
    ctx.out(`\tRelay: ${config.relay.url}`);
    ctx.out(`\tConfig: ${ctx.configPath}`);
    ctx.out('');
    ctx.out('HTTP routes:');
    ctx.out(httpRoutesTable(config));
    ctx.out('');
    ctx.out('TCP ports:');
    ctx.out(tcpPortsTable(config));
  },
};
