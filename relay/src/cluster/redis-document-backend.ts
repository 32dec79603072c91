/**
 * A shared JSON document of a cluster in Redis: the token set (same shape as tokens.json: hashes
 * only) or the verified custom domains (same shape as domains.json), each one key. A write
 * publishes on the document's channel, so a token created or revoked, or a domain verified, on one
 * relay (or by `portway-relay token … --redis`) applies on every relay at once.
 */
import type { Redis } from 'ioredis';
import { CorruptFileError } from '../../../common/json-file';
import type { DocumentBackend } from '../document-backend';
import { REDIS_CHANNELS, REDIS_KEYS } from './redis-layout';

export interface SharedDocument {
  key: string;
  channel: string;
  /** What the document holds, for logs ("tokens"). */
  what: string;
}

export const TOKENS_DOCUMENT: SharedDocument = { key: REDIS_KEYS.tokens, channel: REDIS_CHANNELS.tokens, what: 'tokens' };
export const DOMAINS_DOCUMENT: SharedDocument = { key: REDIS_KEYS.domains, channel: REDIS_CHANNELS.domains, what: 'verified custom domains' };

export class RedisDocumentBackend implements DocumentBackend {
  readonly location: string;
  /** The last document seen, to restore a Redis that came back empty (restarted without persistence). */
  private lastSeen: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly document: SharedDocument,
    private readonly subscriber?: Redis,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.location = `redis key ${document.key}`;
  }

  async read(): Promise<unknown> {
    const { key, what } = this.document;
    let text = await this.redis.get(key);
    if (text === null && this.lastSeen !== undefined) {
      // The document is never removed as a whole (a change rewrites it), so an absent key means
      // Redis lost its data: put back what this relay knew rather than lose it.
      await this.redis.set(key, this.lastSeen, 'NX');
      this.log(`cluster: Redis had no ${what} (restarted without persistence?); restored them from this relay`);
      text = await this.redis.get(key);
    }
    if (text === null) return undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      this.lastSeen = text;
      return parsed;
    } catch {
      throw new CorruptFileError(this.location, 'is not JSON');
    }
  }

  async write(document: unknown): Promise<void> {
    const text = JSON.stringify(document);
    await this.redis.multi().set(this.document.key, text).publish(this.document.channel, 'changed').exec();
    this.lastSeen = text;
  }

  watch(onChange: () => void): () => void {
    const subscriber = this.subscriber;
    if (!subscriber) return () => undefined;
    const onMessage = (channel: string) => {
      if (channel === this.document.channel) onChange();
    };
    subscriber.on('message', onMessage);
    // Messages sent while the connection was down are lost: reload after every reconnect.
    subscriber.on('ready', onChange);
    void subscriber.subscribe(this.document.channel).catch(() => undefined);
    return () => {
      subscriber.off('message', onMessage);
      subscriber.off('ready', onChange);
    };
  }
}
