/**
 * Agent identities → hostnames for a cluster, in Redis. The relay's IdentityStore keeps working
 * from memory (answers are synchronous); this backend fills it at start, writes each assignment
 * with a script that refuses a hostname another identity already holds, and feeds it the
 * assignments (and reclaims) other relays publish. After Redis comes back empty, what this relay
 * knew is written back. A token's --max-identities is counted from this relay's copy, which the
 * published changes keep current: two relays admitting a token's last identity in the same few
 * milliseconds can each admit one.
 */
import type { Redis } from 'ioredis';
import { parseIdentityRecord, type IdentityBackend, type IdentityRecord } from '../identity-backend';
import { REDIS_CHANNELS, REDIS_KEYS } from './redis-layout';

/** Returns the identity already holding the hostname (nothing written), or nil once written and published. */
const SAVE_SCRIPT = `
local owner = redis.call('HGET', KEYS[2], ARGV[2])
if owner and owner ~= ARGV[1] then return owner end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local previous = cjson.decode(old).hostname
  if previous ~= ARGV[2] and redis.call('HGET', KEYS[2], previous) == ARGV[1] then redis.call('HDEL', KEYS[2], previous) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return false
`;

/** Forgets a reclaimed identity unless another relay changed it since (it was seen again). */
const FORGET_SCRIPT = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[2], ARGV[2]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`;

/** Published on every change; no record: the identity was reclaimed. */
interface IdentityMessage {
  identityId: string;
  record?: IdentityRecord;
}

export class RedisIdentityBackend implements IdentityBackend {
  private remote: (identityId: string, record: IdentityRecord | undefined) => void = () => undefined;

  private constructor(
    private readonly redis: Redis,
    private readonly loaded: Map<string, IdentityRecord>,
    private readonly log: (line: string) => void,
  ) {}

  /** Reads every identity now, so the store can open synchronously. */
  static async open(redis: Redis, subscriber: Redis, log: (line: string) => void): Promise<RedisIdentityBackend> {
    const backend = new RedisIdentityBackend(redis, await readRedisIdentities(redis), log);
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== REDIS_CHANNELS.identities) return;
      const message = parseMessage(text);
      if (!message) return;
      if (message.record) backend.loaded.set(message.identityId, message.record);
      else backend.loaded.delete(message.identityId);
      backend.remote(message.identityId, message.record);
    });
    await subscriber.subscribe(REDIS_CHANNELS.identities);
    return backend;
  }

  load(): Map<string, IdentityRecord> {
    return this.loaded;
  }

  onRemote(listener: (identityId: string, record: IdentityRecord | undefined) => void): void {
    this.remote = listener;
  }

  save(identityId: string, record: IdentityRecord): void {
    this.loaded.set(identityId, record);
    const message: IdentityMessage = { identityId, record };
    this.redis
      .eval(SAVE_SCRIPT, 2, REDIS_KEYS.identities, REDIS_KEYS.hostnames, identityId, record.hostname, JSON.stringify(record), REDIS_CHANNELS.identities, JSON.stringify(message))
      .then((owner) => {
        if (typeof owner === 'string') this.log(`cluster: ${record.hostname} was given to another agent on another relay at the same moment; the other one keeps it`);
      })
      .catch((err: Error) => this.log(`cluster: could not save the hostname ${record.hostname} in Redis (${err.message}); it is written again once Redis is back`));
  }

  forget(forgotten: ReadonlyMap<string, IdentityRecord>): void {
    for (const [identityId, record] of forgotten) {
      this.loaded.delete(identityId);
      const message: IdentityMessage = { identityId };
      this.redis
        .eval(FORGET_SCRIPT, 2, REDIS_KEYS.identities, REDIS_KEYS.hostnames, identityId, record.hostname, JSON.stringify(record), REDIS_CHANNELS.identities, JSON.stringify(message))
        .catch((err: Error) => this.log(`cluster: could not reclaim the hostname ${record.hostname} in Redis (${err.message}); the next sweep tries again`));
    }
  }

  /** Writes back every identity this relay knows that Redis lacks (after Redis lost its data). */
  async restore(): Promise<void> {
    if (this.loaded.size === 0 || (await this.redis.exists(REDIS_KEYS.identities)) === 1) return;
    const pipeline = this.redis.pipeline();
    for (const [identityId, record] of this.loaded) {
      pipeline.hsetnx(REDIS_KEYS.identities, identityId, JSON.stringify(record));
      pipeline.hsetnx(REDIS_KEYS.hostnames, record.hostname, identityId);
    }
    await pipeline.exec();
    this.log(`cluster: Redis had no identities (restarted without persistence?); restored ${this.loaded.size} from this relay`);
  }
}

function parseRecord(text: string): IdentityRecord | undefined {
  try {
    return parseIdentityRecord(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** Every identity of the cluster, as Redis holds them now. */
export async function readRedisIdentities(redis: Redis): Promise<Map<string, IdentityRecord>> {
  const all = new Map<string, IdentityRecord>();
  for (const [identityId, text] of Object.entries(await redis.hgetall(REDIS_KEYS.identities))) {
    const record = parseRecord(text);
    if (record) all.set(identityId, record);
  }
  return all;
}

function parseMessage(text: string): IdentityMessage | undefined {
  try {
    const value = JSON.parse(text) as Partial<IdentityMessage> | null;
    if (typeof value?.identityId !== 'string') return undefined;
    if (value.record === undefined) return { identityId: value.identityId };
    const record = parseIdentityRecord(value.record);
    return record ? { identityId: value.identityId, record } : undefined;
  } catch {
    return undefined;
  }
}
