/**
 * Which relay holds which tunnel right now, as leases in Redis with a TTL of a few seconds. The
 * holder claims a lease when an agent's session comes online, renews it every third of the TTL
 * while the session lives, and drops it when the session ends; a relay killed with -9 stops
 * renewing, so its leases lapse by themselves and the agents' next sessions (through the load
 * balancer, on any relay) claim them anew. A claim is published: a relay still holding an older
 * session for the same tunnel closes it (the agent moved). While Redis is unreachable, renewals
 * fail quietly and the held sessions keep serving; once it is back, the next renewal re-creates
 * any lease Redis lost. Lookups are cached for a moment (LOOKUP_CACHE_MS): a claim's message
 * drops the hostname's entry at once, so a moved tunnel is found anew, and a forwarder that cannot
 * reach the holder drops it too.
 */
import type { Redis } from 'ioredis';
import { CloseCode } from '../../../protocol/control';
import type { AgentSession } from '../agent-session';
import type { TunnelRegistry } from '../tunnel-registry';
import { encodeLease, encodePeer, parseClaim, parseLease, type Lease, type PeerAddress } from './lease-record';
import { REDIS_CHANNELS, REDIS_KEYS } from './redis-layout';

/** Takes the lease (a newer session wins), numbers the claim and announces it; returns the number. */
const CLAIM_SCRIPT = `
local seq = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. seq .. ' ' .. ARGV[2], 'PX', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. ARGV[1] .. ' ' .. seq)
return seq
`;
/** Extends our lease, or re-creates it if Redis lost it; 0 when another relay holds it now. */
const RENEW_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** How long a lease lookup is reused: far below the lease TTL, long enough to spare Redis a round trip per request. */
const LOOKUP_CACHE_MS = 1_000;

export class LeaseRegistry {
  private readonly lookups = new Map<string, { lease: Lease | undefined; until: number }>();
  /** Our sessions' leases (a claim's number is known once Redis answered). */
  private readonly held = new Map<AgentSession, Lease>();
  private readonly timer: NodeJS.Timeout;
  private readonly onClaimMessage = (channel: string, text: string) => {
    if (channel === REDIS_CHANNELS.leases) this.onClaim(text);
  };

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly self: { relayId: string; peer: PeerAddress },
    private readonly leaseMs: number,
    private readonly registry: TunnelRegistry,
    private readonly log: (line: string) => void,
  ) {
    registry.on('online', (session: AgentSession) => this.claim(session));
    registry.on('offline', (session: AgentSession) => this.release(session));
    subscriber.on('message', this.onClaimMessage);
    void subscriber.subscribe(REDIS_CHANNELS.leases).catch(() => undefined);
    this.timer = setInterval(() => this.renewAll(), Math.floor(leaseMs / 3));
    this.timer.unref();
  }

  /** The relay holding a tunnel, or undefined if none does. Rejects while Redis is unreachable. */
  async holderOf(hostname: string): Promise<Lease | undefined> {
    const cached = this.lookups.get(hostname);
    if (cached && cached.until > Date.now()) return cached.lease;
    const lease = parseLease(await this.redis.get(REDIS_KEYS.lease(hostname)));
    // Bounded: entries are dropped when stale, so the map holds only hostnames asked for in the last moment.
    if (this.lookups.size > 10_000) this.dropStaleLookups();
    this.lookups.set(hostname, { lease, until: Date.now() + Math.min(LOOKUP_CACHE_MS, Math.floor(this.leaseMs / 3)) });
    return lease;
  }

  /** Forgets a cached lookup (its holder did not answer). */
  forgetHolder(hostname: string): void {
    this.lookups.delete(hostname);
  }

  private dropStaleLookups(): void {
    const now = Date.now();
    for (const [hostname, entry] of this.lookups) if (entry.until <= now) this.lookups.delete(hostname);
  }

  get relayId(): string {
    return this.self.relayId;
  }

  close(): void {
    clearInterval(this.timer);
    this.subscriber.off('message', this.onClaimMessage);
  }

  private claim(session: AgentSession): void {
    const { relayId, peer } = this.self;
    this.redis
      .eval(CLAIM_SCRIPT, 2, REDIS_KEYS.lease(session.hostname), REDIS_KEYS.leaseSeq, relayId, encodePeer(peer), this.leaseMs, REDIS_CHANNELS.leases, session.hostname)
      .then((seq) => {
        if (this.registry.get(session.hostname) === session) this.held.set(session, { relayId, seq: Number(seq), peer });
      })
      .catch((err: Error) => this.log(`cluster: could not claim ${session.hostname} in Redis (${err.message}); retried while the agent stays`));
  }

  private release(session: AgentSession): void {
    const lease = this.held.get(session);
    this.held.delete(session);
    if (!lease) return;
    this.redis.eval(RELEASE_SCRIPT, 1, REDIS_KEYS.lease(session.hostname), encodeLease(lease)).catch(() => undefined);
  }

  private renewAll(): void {
    if (this.redis.status !== 'ready') return;
    for (const session of this.registry.all()) {
      const lease = this.held.get(session);
      if (!lease) {
        this.claim(session); // the claim failed earlier (Redis was away)
        continue;
      }
      this.redis
        .eval(RENEW_SCRIPT, 1, REDIS_KEYS.lease(session.hostname), encodeLease(lease), this.leaseMs)
        .then((renewed) => {
          if (renewed === 0) this.supersede(session, 'its agent is connected to another relay now');
        })
        .catch(() => undefined);
    }
  }

  /** Another relay claimed a tunnel: a session of ours that is older than that claim is stale. */
  private onClaim(text: string): void {
    const claim = parseClaim(text);
    if (claim) this.lookups.delete(claim.hostname);
    if (!claim || claim.relayId === this.self.relayId) return;
    const session = this.registry.get(claim.hostname);
    const lease = session && this.held.get(session);
    // A session whose own claim is still on its way is left to the renewal, which sees who won.
    if (session && lease && lease.seq < claim.seq) this.supersede(session, 'replaced by a newer session on another relay');
  }

  private supersede(session: AgentSession, reason: string): void {
    this.held.delete(session);
    this.log(`cluster: closing ${session.hostname}: ${reason}`);
    session.close(CloseCode.Replaced, reason);
  }
}
