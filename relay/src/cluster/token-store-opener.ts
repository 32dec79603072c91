/** The token store the `token` CLI works on: the data directory's tokens.json, or a cluster's Redis (--redis). */
import * as path from 'node:path';
import { IDENTITIES_FILE, readIdentityFile, type IdentityRecord } from '../identity-backend';
import { TokenStore } from '../security/token-store';
import { connectRedis } from './redis-connection';
import { readRedisIdentities } from './redis-identity-backend';
import { RedisDocumentBackend, TOKENS_DOCUMENT } from './redis-document-backend';

export interface OpenedTokenStore {
  store: TokenStore;
  /** The agent identities beside the tokens (`token ls` counts them per token). */
  identities: () => Promise<Map<string, IdentityRecord>>;
  close: () => Promise<void>;
}

export async function openTokenStore(redisUrl: string | undefined, dataDir: string): Promise<OpenedTokenStore> {
  if (redisUrl === undefined) {
    return {
      store: await TokenStore.open(dataDir, { watch: false }),
      identities: () => Promise.resolve(readIdentityFile(path.join(dataDir, IDENTITIES_FILE))),
      close: async () => undefined,
    };
  }
  const redis = await connectRedis(redisUrl, 'token-cli');
  try {
    return {
      store: await TokenStore.openWith(new RedisDocumentBackend(redis, TOKENS_DOCUMENT), { watch: false }),
      identities: () => readRedisIdentities(redis),
      close: () => redis.quit().then(() => undefined),
    };
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}
