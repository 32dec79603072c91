import { ADMIN_HELP, ADMIN_VALUE_FLAGS, parseAdminOptions, type AdminOptions } from './admin/admin-options';
import { CLUSTER_HELP, CLUSTER_VALUE_FLAGS, parseClusterOptions, type ClusterOptions } from './cluster/cluster-options';
import { readConfigFile } from './config-file';
import { LOG_HELP, LOG_VALUE_FLAGS, parseLogOptions, type LogOptions } from './logging/log-options';
import { HTTPS_BOOLEAN_FLAGS, HTTPS_HELP, HTTPS_VALUE_FLAGS, parseHttpsOptions, type HttpsOptions } from './tls/https-options';
import { parseSecurityOptions, SECURITY_BOOLEAN_FLAGS, SECURITY_HELP, SECURITY_VALUE_FLAGS, type SecurityOptions } from './security/security-options';
import type { PortRange } from './tcp/port-range';
import { parseTcpPorts, TCP_HELP, TCP_VALUE_FLAGS } from './tcp/tcp-options';

/** Relay settings from flags, with TPoT's environment variables as fallbacks. */
export interface RelayOptions {
  domain: string;
  host: string;
  port: number;
  dataDir: string;
  authKey?: string;
  keepaliveMs: number;
  /** The optional HTTPS port (SNI routing, passthrough, the relay's own certificate): tls/https-options.ts. */
  https: HttpsOptions;
  /** Trusted proxies, PROXY protocol, DNS resolver, limits (security/security-options.ts). */
  security: SecurityOptions;
  /** The TCP port range agents allocate from; undefined when off (tcp/tcp-options.ts). */
  tcpPorts: PortRange | undefined;
  /** The admin port (metrics, /tunnels) and the drain timeout (admin/admin-options.ts). */
  admin: AdminOptions;
  /** Log format and level (logging/log-options.ts). */
  log: LogOptions;
  /** Several relays sharing state in Redis (cluster/cluster-options.ts); undefined: one relay, state in dataDir. */
  cluster: ClusterOptions | undefined;
}

export class OptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionsError';
  }
}

export const MIN_AUTH_KEY_LENGTH = 32;

export const SERVE_HELP = `Usage: portway-relay [options]

Runs the Portway relay: one public port for agents (WebSocket) and their visitors (HTTP).

Options (environment variable in brackets):
  --domain D          apex domain; tunnels get subdomains of it           [DOMAIN] (required)
  --port N            port to listen on (0 picks a free one)              [PORT] (default 8080)
  --host ADDR         address to bind                                     [HOST] (default 0.0.0.0)
  --data-dir DIR      where hostnames and other state persist             [DATA_DIR] (default ./portway-data)
  --auth-key K        agents must present this key (32+ characters)      [AUTH_KEY] (default: open relay)
  --keepalive-ms N    ping interval to agents; a missed answer closes the session [KEEPALIVE_MS] (default 15000)
  --config FILE       settings as NAME=value lines (the variable names below) [PORTWAY_RELAY_CONFIG]
${HTTPS_HELP}${TCP_HELP}${SECURITY_HELP}${ADMIN_HELP}${CLUSTER_HELP}${LOG_HELP}  -h, --help          show this help
  --version           print the version

Every option is also an environment variable (and a --config line): its name upper-cased, - as _
(--keepalive-ms → KEEPALIVE_MS, --proxy-protocol → PROXY_PROTOCOL=true). Flags win over the
environment, the environment over the config file.

Tokens: portway-relay token create|ls|revoke (see portway-relay token --help)
Who is online: portway-relay tunnels ls --admin URL (see portway-relay tunnels --help)
`;

type Env = Record<string, string | undefined>;

const VALUE_FLAGS = ['domain', 'port', 'host', 'data-dir', 'auth-key', 'keepalive-ms', ...SECURITY_VALUE_FLAGS, ...HTTPS_VALUE_FLAGS, ...TCP_VALUE_FLAGS, ...ADMIN_VALUE_FLAGS, ...LOG_VALUE_FLAGS, ...CLUSTER_VALUE_FLAGS];
const BOOLEAN_FLAGS: readonly string[] = [...HTTPS_BOOLEAN_FLAGS, ...SECURITY_BOOLEAN_FLAGS];

/** The environment variable (and config file name) of a flag: --keepalive-ms → KEEPALIVE_MS. */
export const envNameOf = (flag: string): string => flag.toUpperCase().replace(/-/g, '_');

/** Every flag the relay's serve command takes, for deploy files' checks and the config file. */
export const RELAY_FLAGS: readonly string[] = [...VALUE_FLAGS, ...BOOLEAN_FLAGS, 'config'];

/** Parses serve flags; throws OptionsError with a message meant for the user. */
export function parseRelayOptions(argv: string[], processEnv: Env): RelayOptions {
  let env = processEnv;
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new OptionsError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if ((HTTPS_BOOLEAN_FLAGS as readonly string[]).includes(name) && eq < 0) {
      flags.set(name, '1');
      continue;
    }
    if ((SECURITY_BOOLEAN_FLAGS as readonly string[]).includes(name) && eq < 0) {
      flags.set(name, 'true');
      continue;
    }
    if (![...VALUE_FLAGS, 'config'].includes(name)) {
      throw new OptionsError(`unknown option --${name} (see --help)`);
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new OptionsError(`--${name} needs a value`);
    flags.set(name, value);
  }
  env = withConfigFile(flags.get('config') ?? env.PORTWAY_RELAY_CONFIG, env);
  const fromEnv = fillFlagsFromEnv(flags, env);
  try {
    return optionsFrom(flags, env);
  } catch (err) {
    throw namingTheEnvironment(err, fromEnv);
  }
}

function optionsFrom(flags: Map<string, string>, env: Env): RelayOptions {
  const domain = (flags.get('domain') ?? env.DOMAIN ?? '').trim().toLowerCase().replace(/\.$/, '');
  if (!domain) throw new OptionsError('a domain is required: --domain example.com (or DOMAIN=example.com)');
  if (!/^[a-z0-9.-]+$/.test(domain) || domain.startsWith('.') || domain.includes('..')) {
    throw new OptionsError(`"${domain}" is not a valid domain name`);
  }
  const port = parseInteger(flags.get('port') ?? env.PORT ?? '8080', 'port', 0, 65535);
  const authKey = flags.get('auth-key') ?? env.AUTH_KEY;
  if (authKey !== undefined && authKey.length < MIN_AUTH_KEY_LENGTH) {
    throw new OptionsError(`the auth key must be at least ${MIN_AUTH_KEY_LENGTH} characters (got ${authKey.length})`);
  }
  return {
    domain,
    port,
    host: flags.get('host') ?? env.HOST ?? '0.0.0.0',
    dataDir: flags.get('data-dir') ?? env.DATA_DIR ?? './portway-data',
    authKey: authKey || undefined,
    keepaliveMs: parseInteger(flags.get('keepalive-ms') ?? '15000', 'keepalive-ms', 100, 3_600_000),
    https: parseHttpsOptions(flags, env, (message) => new OptionsError(message)),
    security: parseSecurityOptions(flags, env, (message) => new OptionsError(message)),
    tcpPorts: parseTcpPorts(flags, env, [port], (message) => new OptionsError(message)),
    admin: parseAdminOptions(flags, env, (message) => new OptionsError(message)),
    log: parseLogOptions(flags, env, (message) => new OptionsError(message)),
    cluster: parseClusterOptions(flags, env, (message) => new OptionsError(message)),
  };
}

/** The environment over the config file's settings (if any). */
function withConfigFile(file: string | undefined, env: Env): Env {
  if (!file) return env;
  const known = new Set(RELAY_FLAGS.filter((flag) => flag !== 'config').map(envNameOf));
  return { ...readConfigFile(file, known, (message) => new OptionsError(message)), ...env };
}

/** A flag not given on the command line takes its environment variable, if set. Returns the flags so filled. */
function fillFlagsFromEnv(flags: Map<string, string>, env: Env): Set<string> {
  const filled = new Set<string>();
  for (const flag of [...VALUE_FLAGS, ...BOOLEAN_FLAGS]) {
    const value = env[envNameOf(flag)];
    if (flags.has(flag) || value === undefined || value === '') continue;
    filled.add(flag);
    if (!BOOLEAN_FLAGS.includes(flag)) {
      flags.set(flag, value);
    } else if (/^(1|true|yes|on)$/i.test(value)) {
      flags.set(flag, 'true');
    } else if (!/^(0|false|no|off)$/i.test(value)) {
      throw new OptionsError(`${envNameOf(flag)} must be true or false (got "${value}")`);
    }
  }
  return filled;
}

/** An error about a value that came from the environment (or config file) names the variable the user set, not the flag. */
function namingTheEnvironment(err: unknown, fromEnv: Set<string>): unknown {
  if (!(err instanceof OptionsError)) return err;
  const flag = /^--([a-z0-9-]+)/.exec(err.message)?.[1];
  if (flag === undefined || !fromEnv.has(flag)) return err;
  return new OptionsError(envNameOf(flag) + err.message.slice(flag.length + 2));
}

function parseInteger(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new OptionsError(`--${name} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return value;
}
