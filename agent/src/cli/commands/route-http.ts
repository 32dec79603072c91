import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeDestination } from '../../config/destination';
import { loadConfig, updateConfig } from '../../config/config-file';
import type { HttpRouteConfig } from '../../config/schema';
import { UsageError } from '../../config/usage-error';
import type { Command } from '../command';
import { normalizeDomain } from '../../config/domain-rules';
import { putHttpRoute, removeHttpRoute } from '../../config/http-routes';
import { httpRoutesTable } from '../route-rows';
import { ROUTE_TLS_FLAGS, routeTlsSettings } from '../route-tls-flags';

export const routeHttpAddCommand: Command = {
  path: ['route', 'http', 'add'],
  summary: 'Add (or replace) an HTTP route for a domain',
  flags: [
    { name: 'domain', type: 'string', placeholder: 'D', description: 'the assigned hostname or a subdomain of it', required: true },
    { name: 'destination', type: 'string', placeholder: 'IP', description: 'address of the local service' },
    { name: 'http', type: 'port', placeholder: 'PORT', description: 'plain-HTTP port of the destination' },
    { name: 'tls', type: 'port', placeholder: 'PORT', description: 'TLS port of the destination (TLS passed through untouched)' },
    { name: 'webroot', type: 'string', placeholder: 'DIR', description: 'serve static files from this directory' },
    { name: 'no-host-rewrite', type: 'boolean', description: 'keep the visitor\'s Host header instead of the destination\'s' },
    ...ROUTE_TLS_FLAGS,
  ],
  details: `Examples:
  portway route http add --domain app.small-fire-20477.example.com --destination 127.0.0.1 --http 3000
  portway route http add --domain docs.small-fire-20477.example.com --webroot ./site
  portway route http add --domain small-fire-20477.example.com --destination 127.0.0.1 --http 3000 --letsencrypt --redirect
  portway route http add --domain app.small-fire-20477.example.com --destination 127.0.0.1 --http 3000 --ca fullchain.pem --key key.pem
  portway route http add --domain app.small-fire-20477.example.com --destination 127.0.0.1 --http 80 --tls 443   (transparent: TLS passed through)`,
  async run(flags, ctx) {
    const domain = normalizeDomain(flags.domain as string);
    const webroot = flags.webroot as string | undefined;
    const destination = flags.destination === undefined ? undefined : normalizeDestination(flags.destination as string);
    if (webroot && destination) throw new UsageError('use either --webroot or --destination, not both');
    if (!webroot && !destination) throw new UsageError('say what to serve: --destination IP --http PORT, or --webroot DIR');
    if (destination && flags.http === undefined && flags.tls === undefined) throw new UsageError('--destination needs --http PORT and/or --tls PORT');
    if (webroot && (flags.http !== undefined || flags.tls !== undefined)) throw new UsageError('--http and --tls go with --destination, not --webroot');
    let root: string | undefined;
    if (webroot) {
      root = path.resolve(webroot);
      if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--webroot ${webroot} is not a directory`);
    }
    const tlsSettings = routeTlsSettings(flags, domain);
    const route: HttpRouteConfig = {
      domain,
      destination,
      http: flags.http as number | undefined,
      tls: flags.tls as number | undefined,
      webroot: root,
      hostRewrite: !flags['no-host-rewrite'],
      ...tlsSettings,
      firewall: [],
    };
    let outcome = 'added';
    updateConfig(ctx.configPath, (config) => {
      outcome = putHttpRoute(config, route);
    });
    ctx.out(`${outcome === 'updated' ? 'Updated' : 'Added'} HTTP route for ${domain}`);
  },
};

export const routeHttpRemoveCommand: Command = {
  path: ['route', 'http', 'rm'],
  summary: 'Remove the HTTP route of a domain',
  flags: [{ name: 'domain', type: 'string', placeholder: 'D', description: 'the route to remove', required: true }],
  async run(flags, ctx) {
    const domain = normalizeDomain(flags.domain as string);
    updateConfig(ctx.configPath, (config) => removeHttpRoute(config, domain));
    ctx.out(`Removed HTTP route for ${domain}`);
  },
};

export const routeHttpListCommand: Command = {
  path: ['route', 'http', 'ls'],
  summary: 'List HTTP routes',
  flags: [{ name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(flags, ctx) {
    const config = loadConfig(ctx.configPath);
    ctx.out(flags.json ? JSON.stringify(config.http, null, 2) : httpRoutesTable(config));
  },
};
