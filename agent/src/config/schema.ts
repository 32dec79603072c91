/** The agent's configuration file, as stored on disk (~/.portway/config.json). */

export interface FirewallRuleConfig {
  action: 'allow' | 'drop';
  /** An address or CIDR network, IPv4 or IPv6. */
  network: string;
}

export interface HttpRouteConfig {
  domain: string;
  /** Reverse proxy target (with `http`), or TLS passthrough target (with `tls`). */
  destination?: string;
  http?: number;
  tls?: number;
  /** Serve static files from this directory instead of proxying. */
  webroot?: string;
  /** Rewrite the Host header to the destination (default true, as TPoT). */
  hostRewrite: boolean;
  letsencrypt?: boolean;
  /** Custom certificate (full chain) and key for TLS at the agent. */
  ca?: string;
  key?: string;
  redirect?: boolean;
  firewall: FirewallRuleConfig[];
}

export interface TcpRouteConfig {
  port: number;
  destination?: string;
  dstport?: number;
  firewall: FirewallRuleConfig[];
}

export interface AgentConfig {
  version: 1;
  relay: { url: string; token?: string };
  /** The agent's secret identity; the relay keys the hostname by its hash. */
  identity: string;
  hostname?: string;
  /** Custom domains the relay verified for this identity (`portway domain add`); routes may use them and their subdomains. */
  domains?: string[];
  acmeDirectory?: string;
  /** PEM file of a CA to trust for the ACME directory's HTTPS (a private CA; pebble in tests). */
  acmeCaBundle?: string;
  http: HttpRouteConfig[];
  tcp: TcpRouteConfig[];
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 65535;

function firewallRules(v: unknown, where: string): FirewallRuleConfig[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(`${where}.firewall must be a list`);
  return v.map((rule, i) => {
    if (!isObject(rule) || (rule.action !== 'allow' && rule.action !== 'drop') || typeof rule.network !== 'string') {
      throw new ConfigError(`${where}.firewall[${i}] must be {"action": "allow"|"drop", "network": "..."}`);
    }
    return { action: rule.action, network: rule.network };
  });
}

function verifiedDomains(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'string')) throw new ConfigError('domains must be a list of domain names');
  return v as string[];
}

/** Checks a parsed config file; the message says which field is wrong. */
export function validateConfig(value: unknown): AgentConfig {
  if (!isObject(value)) throw new ConfigError('the file must hold a JSON object');
  if (value.version !== 1) throw new ConfigError(`unsupported config version ${JSON.stringify(value.version)} (expected 1)`);
  const relay = value.relay;
  if (!isObject(relay) || typeof relay.url !== 'string') throw new ConfigError('relay.url is missing');
  if (relay.token !== undefined && typeof relay.token !== 'string') throw new ConfigError('relay.token must be a string');
  if (typeof value.identity !== 'string' || value.identity.length < 16) throw new ConfigError('identity is missing or too short');
  if (value.hostname !== undefined && typeof value.hostname !== 'string') throw new ConfigError('hostname must be a string');
  const http = value.http ?? [];
  if (!Array.isArray(http)) throw new ConfigError('http must be a list of routes');
  const tcp = value.tcp ?? [];
  if (!Array.isArray(tcp)) throw new ConfigError('tcp must be a list of ports');
  return {
    version: 1,
    relay: { url: relay.url, token: relay.token as string | undefined },
    identity: value.identity,
    hostname: value.hostname as string | undefined,
    domains: verifiedDomains(value.domains),
    acmeDirectory: typeof value.acmeDirectory === 'string' ? value.acmeDirectory : undefined,
    acmeCaBundle: typeof value.acmeCaBundle === 'string' ? value.acmeCaBundle : undefined,
    http: http.map((r, i) => {
      const where = `http[${i}]`;
      if (!isObject(r) || typeof r.domain !== 'string') throw new ConfigError(`${where}.domain is missing`);
      for (const key of ['http', 'tls'] as const) {
        if (r[key] !== undefined && !isPort(r[key])) throw new ConfigError(`${where}.${key} must be a port number`);
      }
      for (const key of ['destination', 'webroot', 'ca', 'key'] as const) {
        if (r[key] !== undefined && typeof r[key] !== 'string') throw new ConfigError(`${where}.${key} must be a string`);
      }
      return {
        domain: r.domain,
        destination: r.destination as string | undefined,
        http: r.http as number | undefined,
        tls: r.tls as number | undefined,
        webroot: r.webroot as string | undefined,
        hostRewrite: r.hostRewrite !== false,
        letsencrypt: r.letsencrypt === true || undefined,
        ca: r.ca as string | undefined,
        key: r.key as string | undefined,
        redirect: r.redirect === true || undefined,
        firewall: firewallRules(r.firewall, where),
      };
    }),
    tcp: tcp.map((t, i) => {
      const where = `tcp[${i}]`;
      if (!isObject(t) || !isPort(t.port)) throw new ConfigError(`${where}.port must be a port number`);
      if (t.dstport !== undefined && !isPort(t.dstport)) throw new ConfigError(`${where}.dstport must be a port number`);
      return {
        port: t.port,
        destination: typeof t.destination === 'string' ? t.destination : undefined,
        dstport: t.dstport as number | undefined,
        firewall: firewallRules(t.firewall, where),
      };
    }),
  };
}
