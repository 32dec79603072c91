/**
 * One relay's membership in a cluster (--redis): the shared state it reads from Redis (tokens,
 * identities), the leases of the tunnels it holds, the cluster port other relays forward to, and
 * the forwarder it uses for tunnels held elsewhere. Without --redis none of this exists.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { IdentityBackend } from '../identity-backend';
import type { Duplex } from 'node:stream';
import type { ClientAddressResolver } from '../security/client-address-resolver';
import type { SessionFeatures } from '../session-policy';
import type { TunnelRegistry } from '../tunnel-registry';
import type { TunnelsElsewhere } from './tunnels-elsewhere';
import type { DocumentBackend } from '../document-backend';
import type { TokenBackend } from '../security/token-backend';
import type { PortBackend } from '../tcp/port-backend';
import type { ClusterOptions } from './cluster-options';
import { CLUSTER_CLIENT_HEADER, clusterProof } from './cluster-preamble';
import { ClusterPort } from './cluster-port';
import { LeaseRegistry } from './lease-registry';
import { PeerForwarder } from './peer-forwarder';
import { connectRedis, connectSubscriber, redactUrl } from './redis-connection';
import { RedisIdentityBackend } from './redis-identity-backend';
import { RedisPortBackend } from './redis-port-backend';
import { DOMAINS_DOCUMENT, RedisDocumentBackend, TOKENS_DOCUMENT } from './redis-document-backend';

/** The state a relay keeps in Redis instead of its data directory. */
export interface SharedState {
  identities: IdentityBackend;
  tokens: TokenBackend;
  ports: PortBackend;
  domains: DocumentBackend;
}

/** What of the relay server the cluster plugs into. */
export interface ClusterMember {
  readonly registry: TunnelRegistry;
  readonly features: SessionFeatures;
  readonly security: { readonly addresses: ClientAddressResolver };
  elsewhere: TunnelsElsewhere | undefined;
  serveDecryptedConnection(socket: Duplex): void;
}

/** What the relay's metrics and logs report about the cluster. */
export const clusterCounters = { forwardedRequests: 0 };

export class RelayCluster {
  readonly relayId = randomBytes(8).toString('hex');
  private leases: LeaseRegistry | undefined;
  private port: ClusterPort | undefined;
  private forwarder: PeerForwarder | undefined;

  private constructor(
    private readonly options: ClusterOptions,
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    readonly shared: SharedState,
    private readonly log: (line: string) => void,
  ) {}

  /** Connects to Redis and reads the shared state; rejects with a clear error if Redis does not answer. */
  static async connect(options: ClusterOptions, log: (line: string) => void): Promise<RelayCluster> {
    const redis = await connectRedis(options.redisUrl, 'commands');
    const subscriber = await connectSubscriber(options.redisUrl);
    const identities = await RedisIdentityBackend.open(redis, subscriber, log);
    const ports = await RedisPortBackend.open(redis, subscriber, log);
    const shared = {
      identities,
      ports,
      tokens: new RedisDocumentBackend(redis, TOKENS_DOCUMENT, subscriber, log),
      domains: new RedisDocumentBackend(redis, DOMAINS_DOCUMENT, subscriber, log),
    };
    const cluster = new RelayCluster(options, redis, subscriber, shared, log);
    redis.on('ready', () => void identities.restore().catch(() => undefined));
    redis.on('ready', () => void ports.restore().catch(() => undefined));
    let down = false;
    redis.on('close', () => {
      if (!down) log(`cluster: lost Redis at ${redactUrl(options.redisUrl)}; held tunnels keep serving, new agents wait`);
      down = true;
    });
    redis.on('ready', () => {
      if (down) log('cluster: Redis is back');
      down = false;
    });
    return cluster;
  }

  /** Opens the cluster port and joins: leases for the relay's tunnels, forwarding for the others'. */
  async attach(relay: ClusterMember): Promise<AddressInfo> {
    const proof = clusterProof(this.options.secret);
    this.port = new ClusterPort(
      proof,
      (socket, client, unread) => {
        if ('pooled' in client) relay.security.addresses.setClientHeader(socket, CLUSTER_CLIENT_HEADER);
        else relay.security.addresses.setProxySource(socket, client.address);
        relay.serveDecryptedConnection(socket);
        if (unread.length > 0) socket.emit('data', unread);
        socket.resume();
      },
      this.log,
    );
    const address = await this.port.listen(this.options.port, this.options.host);
    const peer = { host: this.options.advertise.host, port: this.options.advertise.port || address.port };
    const leases = new LeaseRegistry(this.redis, this.subscriber, { relayId: this.relayId, peer }, this.options.leaseMs, relay.registry, this.log);
    this.leases = leases;
    const port = this.port;
    relay.elsewhere = this.forwarder = new PeerForwarder({
      holderOf: (hostname) => leases.holderOf(hostname),
      unreachable: (hostname) => leases.forgetHolder(hostname),
      relayId: this.relayId,
      isFromPeer: (socket) => port.isFromPeer(socket),
      proof,
      forwarded: () => clusterCounters.forwardedRequests++,
      log: this.log,
    });
    // Without Redis a new session could not be found by the other relays: the agent retries.
    relay.features.gateTunnels(() => (this.redis.status === 'ready' ? undefined : 'the relay cluster cannot reach its shared state (Redis) right now; retrying'));
    return address;
  }

  async close(): Promise<void> {
    this.leases?.close();
    this.forwarder?.close();
    await this.port?.close();
    this.subscriber.disconnect();
    await this.redis.quit().catch(() => undefined);
  }
}
