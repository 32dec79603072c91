/** The token store the `token` CLI works on: the data directory's tokens.json, or a cluster's Redis (--redis). */
import { TokenStore } from '../security/token-store';
import { connectRedis } from './redis-connection';
import { RedisTokenBackend } from './redis-token-backend';

export async function openTokenStore(redisUrl: string | undefined, dataDir: string): Promise<{ store: TokenStore; close: () => Promise<void> }> {
  if (redisUrl === undefined) return { store: await TokenStore.open(dataDir, { watch: false }), close: async () => undefined };
  const redis = await connectRedis(redisUrl, 'token-cli');
  try {
    return { store: await TokenStore.openWith(new RedisTokenBackend(redis), { watch: false }), close: () => redis.quit().then(() => undefined) };
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}
