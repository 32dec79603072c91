import { randomBytes } from 'node:crypto';
import { loadConfigIfPresent, saveConfig } from '../../config/config-file';
import type { AgentConfig } from '../../config/schema';
import { connectToRelay } from '../../tunnel/relay-connection';
import { connectUrl } from '../../tunnel/relay-url';
import { ACME_FLAGS, acmeSettings, hasAcmeFlags } from '../acme-flags';
import { UsageError } from '../../config/usage-error';
import type { Command } from '../command';
import { ask, isInteractive } from '../prompt';
import { AGENT_NAME } from '../../version';

export const configureCommand: Command = {
  path: ['configure'],
  summary: 'Connect to a relay once, get an assigned hostname, and save the configuration',
  flags: [
    { name: 'relay', type: 'string', placeholder: 'URL', description: 'relay URL, e.g. https://relay.example.com' },
    { name: 'token', type: 'string', placeholder: 'T', description: 'auth key or user token the relay requires' },
    { name: 'hostname', type: 'string', placeholder: 'NAME', description: 'ask for this hostname label instead of a random one' },
    ...ACME_FLAGS,
  ],
  details: 'Without flags in a terminal, it asks. Routes and the agent identity are kept when you configure again.',
  async run(flags, ctx) {
    const existing = loadConfigIfPresent(ctx.configPath);
    let relay = flags.relay as string | undefined;
    let token = flags.token as string | undefined;
    let hostname = flags.hostname as string | undefined;
    const acme = acmeSettings(flags, existing);
    if (!relay && existing && hasAcmeFlags(flags)) {
      // Only the ACME settings change: no reconnect (a running `start` picks them up).
      saveConfig(ctx.configPath, { ...existing, ...acme });
      ctx.out(`ACME directory: ${acme.acmeDirectory ?? 'Let\'s Encrypt (default)'}${acme.acmeCaBundle ? ` (trusting ${acme.acmeCaBundle})` : ''}`);
      return;
    }
    if (!relay) {
      if (!isInteractive()) throw new UsageError('--relay is required (or run it in a terminal to be asked)');
      relay = await ask('Relay URL', existing?.relay.url);
      token = (await ask('Auth key or token (empty for an open relay)', token ?? existing?.relay.token)) || undefined;
      hostname = (await ask('Hostname label (empty for a random one)', hostname)) || undefined;
    }
    connectUrl(relay); // validates the URL before anything is written
    const sameRelay = existing?.relay.url === relay;
    const config: AgentConfig = {
      version: 1,
      relay: { url: relay, token: token ?? (sameRelay ? existing?.relay.token : undefined) },
      identity: existing?.identity ?? randomBytes(32).toString('base64url'),
      hostname: undefined,
      domains: sameRelay ? existing?.domains : undefined, // verified by that relay only
      ...acme,
      http: existing?.http ?? [],
      tcp: existing?.tcp ?? [],
    };
    ctx.out(`Connecting to ${relay}...`);
    const connection = await connectToRelay({
      relayUrl: relay,
      identity: config.identity,
      auth: config.relay.token,
      requestedHostname: hostname ?? (sameRelay ? existing?.hostname : undefined),
      agentName: AGENT_NAME,
    });
    connection.mux.close('configured');
    config.hostname = connection.welcome.hostname;
    saveConfig(ctx.configPath, config);
    ctx.out(`Hostname: ${config.hostname}`);
    ctx.out(`Relay: ${relay}`);
    ctx.out(`Config: ${ctx.configPath}`);
  },
};
