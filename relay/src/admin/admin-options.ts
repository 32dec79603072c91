/** The admin port (metrics, who is online) and the shutdown settings, parsed from the serve flag map. */
export const ADMIN_VALUE_FLAGS = ['admin-port', 'admin-host', 'drain-timeout-ms'] as const;

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export const ADMIN_HELP = `  --admin-port N      Prometheus /metrics and /tunnels (who is online)  [ADMIN_PORT] (default: off)
  --admin-host ADDR   address the admin port binds                       [ADMIN_HOST] (default 127.0.0.1)
  --drain-timeout-ms N  on SIGTERM, how long in-flight requests may finish [DRAIN_TIMEOUT_MS] (default ${DEFAULT_DRAIN_TIMEOUT_MS})
`;

export interface AdminOptions {
  /** undefined: no admin port. */
  port: number | undefined;
  host: string;
  drainTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

export function parseAdminOptions(flags: Map<string, string>, env: Env, makeError: (message: string) => Error): AdminOptions {
  const integer = (name: string, text: string, min: number, max: number): number => {
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      throw makeError(`--${name} must be a whole number from ${min} to ${max} (got "${text}")`);
    }
    return Number(text);
  };
  const portText = flags.get('admin-port') ?? (env.ADMIN_PORT || undefined);
  return {
    port: portText === undefined ? undefined : integer('admin-port', portText, 0, 65535),
    host: flags.get('admin-host') ?? (env.ADMIN_HOST || '127.0.0.1'),
    drainTimeoutMs: integer('drain-timeout-ms', flags.get('drain-timeout-ms') ?? (env.DRAIN_TIMEOUT_MS || String(DEFAULT_DRAIN_TIMEOUT_MS)), 0, 3_600_000),
  };
}
