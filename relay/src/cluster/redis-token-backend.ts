/**
 * The token set of a cluster, in Redis (one JSON document under REDIS_KEYS.tokens, the same shape
 * as tokens.json: hashes only). A write publishes on REDIS_CHANNELS.tokens, so a token created or
 * revoked on one relay, or by `portway-relay token … --redis`, applies on every relay at once.
 */
import type { Redis } from 'ioredis';
import { CorruptFileError } from '../../../common/json-file';
import type { TokenBackend } from '../security/token-backend';
import { REDIS_CHANNELS, REDIS_KEYS } from './redis-layout';

export class RedisTokenBackend implements TokenBackend {
  readonly location = `redis key ${REDIS_KEYS.tokens}`;
  /** The last document seen, to restore a Redis that came back empty (restarted without persistence). */
  private lastSeen: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly subscriber?: Redis,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async read(): Promise<unknown> {
    let text = await this.redis.get(REDIS_KEYS.tokens);
    if (text === null && this.lastSeen !== undefined) {
      // Tokens are never removed as a whole (revoke rewrites the document), so an absent key
      // means Redis lost its data: put back what this relay knew rather than lock everyone out.
      await this.redis.set(REDIS_KEYS.tokens, this.lastSeen, 'NX');
      this.log('cluster: Redis had no tokens (restarted without persistence?); restored them from this relay');
      text = await this.redis.get(REDIS_KEYS.tokens);
    }
    if (text === null) return undefined;
    try {
      const document: unknown = JSON.parse(text);
      this.lastSeen = text;
      return document;
    } catch {
      throw new CorruptFileError(this.location, 'is not JSON');
    }
  }

  async write(document: unknown): Promise<void> {
    const text = JSON.stringify(document);
    await this.redis.multi().set(REDIS_KEYS.tokens, text).publish(REDIS_CHANNELS.tokens, 'changed').exec();
    this.lastSeen = text;
  }

  watch(onChange: () => void): () => void {
    const subscriber = this.subscriber;
    if (!subscriber) return () => undefined;
    const onMessage = (channel: string) => {
      if (channel === REDIS_CHANNELS.tokens) onChange();
    };
    subscriber.on('message', onMessage);
    // Messages sent while the connection was down are lost: reload after every reconnect.
    subscriber.on('ready', onChange);
    void subscriber.subscribe(REDIS_CHANNELS.tokens).catch(() => undefined);
    return () => {
      subscriber.off('message', onMessage);
      subscriber.off('ready', onChange);
    };
  }
}
