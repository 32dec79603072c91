import { normalizeDestination } from '../../config/destination';
import { loadConfig } from '../../config/config-file';
import { publicUrl } from '../../config/public-address';
import type { HttpRouteConfig } from '../../config/schema';
import { AgentRuntime } from '../../runtime/agent-runtime';
import { isListening } from '../../serve/port-probe';
import { UsageError } from '../../config/usage-error';
import type { Command } from '../command';
import { assertDomainAllowed, normalizeDomain } from '../../config/domain-rules';
import { runInForeground } from '../run-in-foreground';
import { formatHostPort } from '../../../../common/net/host-port';

export const httpCommand: Command = {
  path: ['http'],
  summary: 'Share a local HTTP port now, for as long as this runs (nothing is saved)',
  positional: 'port',
  flags: [
    { name: 'port', type: 'port', placeholder: 'PORT', description: 'the local port to share (or give it bare: portway http 3000)', required: true },
    { name: 'domain', type: 'string', placeholder: 'D', description: 'serve it at this name (default: the assigned hostname)' },
    { name: 'destination', type: 'string', placeholder: 'IP', description: 'address of the local service (default 127.0.0.1)' },
    { name: 'no-host-rewrite', type: 'boolean', description: 'keep the visitor\'s Host header instead of the destination\'s' },
  ],
  details: `Examples:
  portway http 3000                                            serve 127.0.0.1:3000 at the assigned hostname
  portway http 8080 --domain api.small-fire-20477.example.com  at a subdomain of it

The routes saved with \`portway route …\` keep working alongside; this one wins over a saved route
for the same domain (keeping that route's firewall) until you stop it with Ctrl-C.`,
  async run(flags, ctx) {
    const config = loadConfig(ctx.configPath);
    if (!config.hostname) throw new UsageError('this agent has no hostname yet; run `portway configure` first');
    const domain = flags.domain === undefined ? config.hostname : normalizeDomain(flags.domain as string);
    assertDomainAllowed(config, domain);
    const destination = flags.destination === undefined ? '127.0.0.1' : normalizeDestination(flags.destination as string);
    const port = flags.port as number;
    const route: HttpRouteConfig = { domain, destination, http: port, hostRewrite: !flags['no-host-rewrite'], firewall: [] };
    // A warning, not an error: the service may well start after the tunnel.
    if (!(await isListening(destination, port))) {
      ctx.err(`portway: nothing answers on ${formatHostPort(destination, port)} yet; visitors get a 502 page until something listens there`);
    }
    const runtime = new AgentRuntime(ctx.configPath, { transient: { http: [route] } });
    return runInForeground(runtime, ctx, () => {
      ctx.out('');
      ctx.out(`Forwarding ${publicUrl(runtime.currentConfig.relay.url, route.domain)} -> http://${formatHostPort(destination, port)}`);
      ctx.out('(for this run only; Ctrl-C stops sharing)');
    });
  },
};
