/** The scale-out settings (--redis, --cluster-*), parsed from the serve flag map; undefined without --redis. */
export const CLUSTER_VALUE_FLAGS = ['redis', 'cluster-secret', 'cluster-port', 'cluster-host', 'cluster-advertise', 'cluster-lease-ms'] as const;

export const MIN_CLUSTER_SECRET_LENGTH = 32;
export const DEFAULT_LEASE_MS = 5_000;

export const CLUSTER_HELP = `  --redis URL         run as one of several relays sharing state in Redis [REDIS_URL] (default: off)
  --cluster-secret S  shared by the relays of a cluster (32+ characters) [CLUSTER_SECRET]
  --cluster-port N    where the other relays forward visitors to this one [CLUSTER_PORT]
  --cluster-host ADDR address the cluster port binds                     [CLUSTER_HOST] (default 0.0.0.0)
  --cluster-advertise HOST:PORT  what the other relays dial              [CLUSTER_ADVERTISE] (default --cluster-host:--cluster-port)
  --cluster-lease-ms N  how long a lost relay's tunnels stay claimed     [CLUSTER_LEASE_MS] (default ${DEFAULT_LEASE_MS})
`;

export interface ClusterOptions {
  redisUrl: string;
  secret: string;
  port: number;
  host: string;
  /** host:port the other relays dial; a port of 0 is filled in once the cluster port listens. */
  advertise: { host: string; port: number };
  leaseMs: number;
}

type Env = Record<string, string | undefined>;

export function parseClusterOptions(flags: Map<string, string>, env: Env, makeError: (message: string) => Error): ClusterOptions | undefined {
  const redisUrl = flags.get('redis') ?? (env.REDIS_URL || undefined);
  const given = CLUSTER_VALUE_FLAGS.filter((flag) => flag !== 'redis' && flags.has(flag));
  if (redisUrl === undefined) {
    if (given.length > 0) throw makeError(`--${given[0]} needs --redis URL (the relays of a cluster share state in Redis)`);
    return undefined;
  }
  if (!/^rediss?:\/\/[^\s]+$/.test(redisUrl)) throw makeError(`--redis must be a redis:// or rediss:// URL (got "${redisUrl.slice(0, 80)}")`);
  const secret = flags.get('cluster-secret');
  if (secret === undefined) throw makeError('--redis needs --cluster-secret S (the same on every relay of the cluster)');
  if (secret.length < MIN_CLUSTER_SECRET_LENGTH) throw makeError(`--cluster-secret must be at least ${MIN_CLUSTER_SECRET_LENGTH} characters (got ${secret.length})`);
  const portText = flags.get('cluster-port');
  if (portText === undefined) throw makeError('--redis needs --cluster-port N (where the other relays reach this one)');
  const port = integer(makeError, 'cluster-port', portText, 0, 65535);
  const host = flags.get('cluster-host') ?? '0.0.0.0';
  const advertiseText = flags.get('cluster-advertise');
  let advertise: { host: string; port: number };
  if (advertiseText !== undefined) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d+)$/.exec(advertiseText);
    if (!match) throw makeError(`--cluster-advertise must be HOST:PORT (got "${advertiseText.slice(0, 80)}")`);
    advertise = { host: match[1].replace(/^\[|\]$/g, ''), port: integer(makeError, 'cluster-advertise', match[2], 1, 65535) };
  } else if (host === '0.0.0.0' || host === '::') {
    throw makeError(`--cluster-host ${host} is not an address other relays can dial; set --cluster-advertise HOST:PORT`);
  } else {
    advertise = { host, port };
  }
  const leaseMs = integer(makeError, 'cluster-lease-ms', flags.get('cluster-lease-ms') ?? String(DEFAULT_LEASE_MS), 1_000, 600_000);
  return { redisUrl, secret, port, host, advertise, leaseMs };
}

function integer(makeError: (message: string) => Error, name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw makeError(`--${name} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return Number(text);
}
