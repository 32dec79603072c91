/**
 * TCP port allocations for a cluster, in Redis: one hash, port → {"identity","allocatedAt"}. The
 * allocator answers from memory; each change is written by a script that refuses a port another
 * identity already holds (two relays allocating the same free port at once: the first wins, the
 * other's agent gets the next port) and publishes it, so every relay's copy follows. After Redis
 * comes back empty, what this relay knew is written back.
 */
import type { Redis } from 'ioredis';
import { PortAllocationError } from '../tcp/port-allocator';
import { parsePortEntry, type PortBackend, type PortRecord } from '../tcp/port-backend';
import { REDIS_CHANNELS, REDIS_KEYS } from './redis-layout';

/**
 * ARGV: port, identity, record JSON ('' to release), channel, message. Returns the record of the
 * identity holding the port when that is another one (nothing changed), else nil.
 */
const SAVE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and cjson.decode(current).identity ~= ARGV[2] then return current end
if ARGV[3] == '' then
  if not current then return false end
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return false
`;

/** Published on every change; no record: released. */
interface PortMessage {
  port: number;
  record?: PortRecord;
}

export class RedisPortBackend implements PortBackend {
  private remote: (port: number, record: PortRecord | undefined) => void = () => undefined;

  private constructor(
    private readonly redis: Redis,
    private readonly known: Map<number, PortRecord>,
    private readonly log: (line: string) => void,
  ) {}

  /** Reads every allocation now, so the allocator can open synchronously. */
  static async open(redis: Redis, subscriber: Redis, log: (line: string) => void): Promise<RedisPortBackend> {
    const backend = new RedisPortBackend(redis, parseAll(await redis.hgetall(REDIS_KEYS.tcpPorts)), log);
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== REDIS_CHANNELS.tcpPorts) return;
      const message = parseMessage(text);
      if (message) backend.apply(message.port, message.record);
    });
    await subscriber.subscribe(REDIS_CHANNELS.tcpPorts);
    return backend;
  }

  load(): Map<number, PortRecord> {
    return new Map(this.known);
  }

  onRemote(listener: (port: number, record: PortRecord | undefined) => void): void {
    this.remote = listener;
  }

  async save(port: number, identity: string, record: PortRecord | undefined): Promise<void> {
    const message: PortMessage = { port, record };
    const holder = await this.redis.eval(SAVE_SCRIPT, 1, REDIS_KEYS.tcpPorts, String(port), identity, record ? JSON.stringify(record) : '', REDIS_CHANNELS.tcpPorts, JSON.stringify(message));
    if (typeof holder === 'string') {
      this.apply(port, parseRecord(port, holder));
      throw new PortAllocationError('taken', `port ${port} was allocated to another agent on another relay a moment before`);
    }
    if (record) this.known.set(port, record);
    else this.known.delete(port);
  }

  /** Writes back every allocation this relay knows when Redis has none (after Redis lost its data). */
  async restore(): Promise<void> {
    if (this.known.size === 0 || (await this.redis.exists(REDIS_KEYS.tcpPorts)) === 1) return;
    const pipeline = this.redis.pipeline();
    for (const [port, record] of this.known) pipeline.hsetnx(REDIS_KEYS.tcpPorts, String(port), JSON.stringify(record));
    await pipeline.exec();
    this.log(`cluster: Redis had no TCP port allocations (restarted without persistence?); restored ${this.known.size} from this relay`);
  }

  private apply(port: number, record: PortRecord | undefined): void {
    if (record) this.known.set(port, record);
    else this.known.delete(port);
    this.remote(port, record);
  }
}

function parseRecord(port: number, text: string): PortRecord | undefined {
  try {
    return parsePortEntry(String(port), JSON.parse(text))?.record;
  } catch {
    return undefined;
  }
}

function parseAll(hash: Record<string, string>): Map<number, PortRecord> {
  const all = new Map<number, PortRecord>();
  for (const [key, text] of Object.entries(hash)) {
    const record = parseRecord(Number(key), text);
    if (record) all.set(Number(key), record);
  }
  return all;
}

function parseMessage(text: string): PortMessage | undefined {
  try {
    const value = JSON.parse(text) as Partial<PortMessage> | null;
    if (typeof value?.port !== 'number') return undefined;
    if (value.record === undefined) return { port: value.port };
    const entry = parsePortEntry(String(value.port), value.record);
    return entry ? { port: entry.port, record: entry.record } : undefined;
  } catch {
    return undefined;
  }
}
