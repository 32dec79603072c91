/**
 * The Redis connections of a relay (ioredis): one for commands, one for pub/sub (a subscribed
 * connection can issue nothing else). Commands fail at once while Redis is unreachable (no offline
 * queue), so a visitor or an agent gets a clear answer instead of waiting; ioredis reconnects by
 * itself and re-subscribes.
 */
import { Redis, type RedisOptions } from 'ioredis';

const CONNECT_TIMEOUT_MS = 3_000;
/** Reconnect quickly at first, then every 2 s: a restarted Redis is found within that. */
const retryStrategy = (attempt: number): number => Math.min(attempt * 200, 2_000);

export class RedisUnavailableError extends Error {
  constructor(url: string, cause: string) {
    super(`cannot reach Redis at ${redactUrl(url)}: ${cause}`);
    this.name = 'RedisUnavailableError';
  }
}

/** A URL fit for logs: any password replaced. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/** Connects (rejecting with RedisUnavailableError if Redis does not answer at first). */
export async function connectRedis(url: string, purpose: string): Promise<Redis> {
  const options: RedisOptions = {
    connectionName: `portway-relay:${purpose}`,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy,
  };
  const redis = new Redis(url, options);
  // Errors while reconnecting are expected (Redis restarting); readiness is what callers check.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new RedisUnavailableError(url, (err as Error).message);
  }
  return redis;
}

/** A connection for SUBSCRIBE (it queues the subscriptions made before it is ready). */
export async function connectSubscriber(url: string): Promise<Redis> {
  const redis = await connectRedis(url, 'subscriber');
  redis.options.enableOfflineQueue = true;
  return redis;
}
