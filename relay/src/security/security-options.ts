/**
 * The relay's security settings: whom to believe about client addresses, where to check DNS, and
 * the limits of the public port. Parsed from the serve flags (see options.ts), each with a default
 * that is safe on the internet.
 */
import { TrustedProxies, TrustedProxiesError } from './trusted-proxies';

export interface PublicLimits {
  /** Largest request head (request line + headers), bytes; larger gets 431. */
  maxHeaderSize: number;
  /** A request head must be complete within this time from its first byte (slowloris). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  idleTimeoutMs: number;
  /** A request body that makes no progress (not a byte) for this long is cut: 408 if no answer started (slow uploads). */
  bodyTimeoutMs: number;
  /** An agent WebSocket must say hello within this time. */
  handshakeTimeoutMs: number;
  /** Streams (public requests in flight) one agent session may carry at once; beyond it 503. */
  maxStreamsPerSession: number;
  /** The percent of a session's streams one client address may hold (kept-alive ones included); beyond it 429. */
  addressSharePercent: number;
  /**
   * The cap on one agent's send queue (MiB it has not read): over it for unsentGraceMs, or over
   * twice it at all, the agent is cut off (it alone).
   */
  maxUnsentMiBPerSession: number;
  unsentGraceMs: number;
  /** What the relay may buffer for one session's streams, worst case (windows × streams): bounds its streams at once. */
  maxBufferedMiBPerSession: number;
}

export const DEFAULT_LIMITS: PublicLimits = {
  maxHeaderSize: 16 * 1024,
  headersTimeoutMs: 20_000,
  idleTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  // A stream costs memory only for the bytes in flight (windows are credit, not buffers): an idle
  // keep-alive visitor or a quiet WebSocket is a few KiB, so the count can be high.
  maxStreamsPerSession: 65_536,
  // Half: one address trickling uploads (or holding kept-alive connections) leaves the other half to everyone else.
  addressSharePercent: 50,
  // What many streams together may queue towards an agent that does not read: memory, not a count.
  maxUnsentMiBPerSession: 64,
  unsentGraceMs: 3000,
  // 1.25 MiB per stream (a window one way, a Writable the other): about 800 requests in flight.
  maxBufferedMiBPerSession: 1024,
};

export interface SecurityOptions {
  /** Proxies whose X-Forwarded-For / PROXY header is believed (CIDR text, validated). */
  trustedProxies: string[];
  /** Require a PROXY protocol (v1/v2) header from trusted proxies; close everyone else. */
  proxyProtocol: boolean;
  /** DNS server for custom-domain TXT checks, `host:port`; the system's when absent. */
  dnsResolver?: string;
  /**
   * Tunnels at once for a token created without its own `--max-tunnels` (a token's own limit
   * wins); undefined: unlimited. The AUTH_KEY and an open relay are not tokens and are not counted.
   */
  maxTunnelsPerToken?: number;
  /** Agent identities (hostnames) a token created without its own `--max-identities` may hold. */
  maxIdentitiesPerToken: number;
  /** Identities unused this long lose their hostname (not reservations, custom domains or TCP ports); 0: never. */
  identityIdleDays: number;
  /** Steady interval between custom-domain DNS lookups per token (or agent identity), after a burst. */
  domainVerifyIntervalMs: number;
  limits: PublicLimits;
}

export const DEFAULT_MAX_IDENTITIES_PER_TOKEN = 50;
export const DEFAULT_IDENTITY_IDLE_DAYS = 90;

/** Custom-domain verification lookups: a burst of this many, then one per `domainVerifyIntervalMs`. */
export const DOMAIN_VERIFY_BURST = 5;
export const DEFAULT_DOMAIN_VERIFY_INTERVAL_MS = 5_000;

export const SECURITY_VALUE_FLAGS = [
  'trusted-proxies',
  'dns-resolver',
  'domain-verify-interval-ms',
  'max-tunnels-per-token',
  'max-identities-per-token',
  'identity-idle-days',
  'max-header-size',
  'headers-timeout-ms',
  'idle-timeout-ms',
  'body-timeout-ms',
  'handshake-timeout-ms',
  'max-unsent-mib',
  'max-streams-per-session',
  'address-share-percent',
  'unsent-grace-ms',
  'max-session-buffer-mib',
] as const;
export const SECURITY_BOOLEAN_FLAGS = ['proxy-protocol'] as const;

export const SECURITY_HELP = `  --trusted-proxies CIDR,...   believe X-Forwarded-For / PROXY headers only from these   [TRUSTED_PROXIES] (default: nobody)
  --proxy-protocol    expect a PROXY v1/v2 header from trusted proxies; close other peers
  --dns-resolver H:P  DNS server for custom-domain TXT checks               [DNS_RESOLVER] (default: system)
  --domain-verify-interval-ms N  after a burst of ${DOMAIN_VERIFY_BURST}, one TXT lookup per token (or agent) per N ms (default ${DEFAULT_DOMAIN_VERIFY_INTERVAL_MS})
  --max-tunnels-per-token N  tunnels at once for tokens created without --max-tunnels   [MAX_TUNNELS_PER_TOKEN] (default: unlimited)
  --max-identities-per-token N  agent identities (hostnames) per token without --max-identities [MAX_IDENTITIES_PER_TOKEN] (default ${DEFAULT_MAX_IDENTITIES_PER_TOKEN})
  --identity-idle-days N  identities unused N days lose their hostname, unless it was requested or holds domains or ports; 0: never (default ${DEFAULT_IDENTITY_IDLE_DAYS})
  --max-header-size N       bytes of request head (default ${DEFAULT_LIMITS.maxHeaderSize})
  --headers-timeout-ms N    a request head must arrive within this (default ${DEFAULT_LIMITS.headersTimeoutMs})
  --idle-timeout-ms N       idle keep-alive connections close after this (default ${DEFAULT_LIMITS.idleTimeoutMs})
  --body-timeout-ms N       a request body sending nothing for this long is cut, 408 if unanswered (default ${DEFAULT_LIMITS.bodyTimeoutMs})
  --handshake-timeout-ms N  agents must say hello within this (default ${DEFAULT_LIMITS.handshakeTimeoutMs})
  --max-streams-per-session N  requests in flight per tunnel; beyond it 503 (default ${DEFAULT_LIMITS.maxStreamsPerSession})
  --address-share-percent N  one client address may hold N% of a tunnel's requests in flight and kept-alive connections; beyond it 429 (default ${DEFAULT_LIMITS.addressSharePercent}; 100: no share)
  --max-unsent-mib N        an agent leaving more than N MiB unread for --unsent-grace-ms (or 2N at all) is cut off (default ${DEFAULT_LIMITS.maxUnsentMiBPerSession})
  --unsent-grace-ms N       how long an agent's unread bytes may stay over --max-unsent-mib (default ${DEFAULT_LIMITS.unsentGraceMs})
  --max-session-buffer-mib N  worst-case buffers of one tunnel's streams (1.25 MiB each); bounds its requests in flight, beyond it 503 (default ${DEFAULT_LIMITS.maxBufferedMiBPerSession})
`;

/** The public HTTP server's settings for these limits. */
export function publicServerOptions(limits: PublicLimits): { maxHeaderSize: number; headersTimeout: number; requestTimeout: number; keepAliveTimeout: number; connectionsCheckingInterval: number } {
  return {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0, // long uploads and streams are fine; slow headers are not (headersTimeout)
    keepAliveTimeout: limits.idleTimeoutMs,
    // Node checks the headers timeout on this interval (30 s by default): a quarter of it keeps the limit honest.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

type Env = Record<string, string | undefined>;

/** Parses the security flags; `fail` turns a message into the caller's options error. */
export function parseSecurityOptions(flags: ReadonlyMap<string, string>, env: Env, fail: (message: string) => Error): SecurityOptions {
  const proxies = flags.get('trusted-proxies') ?? env.TRUSTED_PROXIES ?? '';
  let trusted: TrustedProxies;
  try {
    trusted = TrustedProxies.fromList(proxies);
  } catch (err) {
    if (err instanceof TrustedProxiesError) throw fail(`--trusted-proxies: ${err.message}`);
    throw err;
  }
  const proxyProtocol = flags.has('proxy-protocol');
  if (proxyProtocol && trusted.isEmpty) throw fail('--proxy-protocol needs --trusted-proxies (whose PROXY headers to believe)');
  const dnsResolver = flags.get('dns-resolver') ?? env.DNS_RESOLVER;
  if (dnsResolver !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(dnsResolver)) {
    throw fail(`--dns-resolver must be HOST or HOST:PORT (got "${dnsResolver}")`);
  }
  const number = <T>(name: string, fallback: T, min: number, max: number, envName?: string): number | T => {
    const fromFlag = flags.get(name);
    const text = fromFlag ?? (envName === undefined ? undefined : env[envName] || undefined);
    if (text === undefined) return fallback;
    const value = Number(text);
    const source = fromFlag === undefined ? envName : `--${name}`;
    if (!/^\d+$/.test(text) || value < min || value > max) throw fail(`${source} must be a whole number from ${min} to ${max} (got "${text}")`);
    return value;
  };
  return {
    trustedProxies: trusted.cidrs,
    proxyProtocol,
    dnsResolver: dnsResolver || undefined,
    maxTunnelsPerToken: number('max-tunnels-per-token', undefined, 1, 1_000_000, 'MAX_TUNNELS_PER_TOKEN'),
    maxIdentitiesPerToken: number('max-identities-per-token', DEFAULT_MAX_IDENTITIES_PER_TOKEN, 1, 1_000_000, 'MAX_IDENTITIES_PER_TOKEN'),
    identityIdleDays: number('identity-idle-days', DEFAULT_IDENTITY_IDLE_DAYS, 0, 36_500, 'IDENTITY_IDLE_DAYS'),
    domainVerifyIntervalMs: number('domain-verify-interval-ms', DEFAULT_DOMAIN_VERIFY_INTERVAL_MS, 100, 3_600_000),
    limits: {
      maxHeaderSize: number('max-header-size', DEFAULT_LIMITS.maxHeaderSize, 1024, 1024 * 1024),
      headersTimeoutMs: number('headers-timeout-ms', DEFAULT_LIMITS.headersTimeoutMs, 100, 600_000),
      idleTimeoutMs: number('idle-timeout-ms', DEFAULT_LIMITS.idleTimeoutMs, 100, 3_600_000),
      bodyTimeoutMs: number('body-timeout-ms', DEFAULT_LIMITS.bodyTimeoutMs, 100, 3_600_000),
      handshakeTimeoutMs: number('handshake-timeout-ms', DEFAULT_LIMITS.handshakeTimeoutMs, 100, 600_000),
      maxStreamsPerSession: number('max-streams-per-session', DEFAULT_LIMITS.maxStreamsPerSession, 1, 1_048_576),
      addressSharePercent: number('address-share-percent', DEFAULT_LIMITS.addressSharePercent, 1, 100),
      maxUnsentMiBPerSession: number('max-unsent-mib', DEFAULT_LIMITS.maxUnsentMiBPerSession, 1, 65_536),
      unsentGraceMs: number('unsent-grace-ms', DEFAULT_LIMITS.unsentGraceMs, 0, 600_000),
      maxBufferedMiBPerSession: number('max-session-buffer-mib', DEFAULT_LIMITS.maxBufferedMiBPerSession, 2, 1_048_576),
    },
  };
}
