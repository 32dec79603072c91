/**
 * Everything the relays of a cluster keep in Redis, named once: the relays and the token CLI
 * import these names, so no two places spell a key differently.
 *
 *   portway:tokens                   string  the tokens document (same JSON as tokens.json: hashes only)
 *   portway:domains                  string  the verified custom domains document (same JSON as domains.json)
 *   portway:identities               hash    agent identity id → {"hostname","createdAt"}
 *   portway:hostnames                hash    hostname → agent identity id (who holds the name)
 *   portway:tcp-ports                hash    TCP port → {"identity","allocatedAt"} (who holds the port)
 *   portway:lease:<hostname>         string  the relay holding the tunnel now (lease-record.ts), with a TTL
 *   portway:lease-seq                counter orders lease claims, so a late message never closes a newer session
 */
export const REDIS_KEYS = {
  tokens: 'portway:tokens',
  domains: 'portway:domains',
  identities: 'portway:identities',
  hostnames: 'portway:hostnames',
  tcpPorts: 'portway:tcp-ports',
  leaseSeq: 'portway:lease-seq',
  lease: (hostname: string) => `portway:lease:${hostname}`,
} as const;

/** Pub/sub channels: a change made by one relay (or the CLI) reaches the others at once. */
export const REDIS_CHANNELS = {
  /** Any message: reload the tokens document. */
  tokens: 'portway:tokens:changed',
  /** Any message: reload the verified custom domains. */
  domains: 'portway:domains:changed',
  /** JSON {identityId, record}: an identity got a hostname. */
  identities: 'portway:identities:changed',
  /** JSON {port, record?}: a TCP port was allocated (record) or released. */
  tcpPorts: 'portway:tcp-ports:changed',
  /** lease-record.ts's claim message: a relay took a tunnel; an older holder closes its session. */
  leases: 'portway:leases',
} as const;
