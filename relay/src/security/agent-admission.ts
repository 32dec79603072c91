/**
 * Who may open a session on the relay, and how many: the AUTH_KEY (single-key mode) or a per-user
 * token, a rate limit on failed logins per client address, the per-token tunnel limit (the token's
 * own, else the relay's --max-tunnels-per-token), and closing every live session of a token the
 * operator revoked. Sessions without a token (AUTH_KEY, open relay) have no tunnel limit: that one
 * credential is shared by everyone, so a count over it would limit the whole team at once.
 *
 * The relay is open (anyone may connect) only when it has neither an AUTH_KEY nor any token.
 * Presented secrets are never logged; log lines name tokens by id.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { CloseCode, type RefusalCode } from '../../../protocol/control';
import type { AgentSession } from '../agent-session';
import type { IdentityOwner } from '../identity-store';
import type { TunnelRegistry } from '../tunnel-registry';
import { RateLimiter, rateLimitKey, type RateLimiterOptions } from './rate-limiter';
import type { TokenRecord, TokenStore } from './token-store';
import { TokenUsage, type TokenUsageInfo } from './token-usage';

/** Failed logins per client address: a burst of 10, then one every 6 s. Successes cost nothing. */
export const FAILED_LOGIN_LIMIT: RateLimiterOptions = { capacity: 10, refillPerSecond: 1 / 6 };

export interface AdmissionOptions {
  /** Tunnels at once for tokens without their own maxTunnels; undefined: unlimited. */
  maxTunnelsPerToken?: number;
  /** Agent identities for tokens without their own maxIdentities; undefined: unlimited. */
  maxIdentitiesPerToken?: number;
  /** The failed-login budget per client address. */
  failedLoginLimit?: RateLimiterOptions;
}

export type Admission = { ok: true; token?: TokenRecord } | { ok: false; code: RefusalCode; message: string };

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export class AgentAdmission {
  private readonly authKeyHash: Buffer | undefined;
  private readonly failedLogins: RateLimiter;
  /** Sessions (tunnel and control) that logged in with a token, for revocation. */
  private readonly tokenSessions = new Set<AgentSession>();
  private tokens: TokenStore | undefined;
  private stopListening: () => void = () => undefined;
  private readonly defaultMaxTunnels: number | undefined;
  private readonly defaultMaxIdentities: number | undefined;
  /** Bytes and refusals per token over the last hour (`token ls`). */
  readonly usage = new TokenUsage();

  constructor(
    authKey: string | undefined,
    private readonly registry: TunnelRegistry,
    private readonly log: (line: string) => void,
    options: AdmissionOptions = {},
  ) {
    this.authKeyHash = authKey ? sha256(authKey) : undefined;
    this.failedLogins = new RateLimiter(options.failedLoginLimit ?? FAILED_LOGIN_LIMIT);
    this.defaultMaxTunnels = options.maxTunnelsPerToken;
    this.defaultMaxIdentities = options.maxIdentitiesPerToken;
  }

  /** Starts accepting the store's tokens (loaded before the relay listens); revocations close sessions. */
  useTokens(tokens: TokenStore): void {
    this.stopListening();
    this.tokens = tokens;
    this.stopListening = tokens.onChange((change) => {
      for (const record of change.added) this.log(`token added: ${record.name} (${record.id})`);
      for (const record of change.removed) {
        this.log(`token revoked: ${record.name} (${record.id})`);
        this.closeSessionsOf(record);
        this.usage.forget(record.id);
      }
    });
  }

  /** Whether agents must present a credential at all. */
  get isOpen(): boolean {
    return this.authKeyHash === undefined && (this.tokens?.list().length ?? 0) === 0;
  }

  /** Checks a hello's credential from `clientAddress` (after trusted-proxy resolution). */
  login(presented: string | undefined, clientAddress: string): Admission {
    const token = this.tokens?.verify(presented);
    if (this.isOpen) return { ok: true, token };
    const key = rateLimitKey(clientAddress);
    const allowance = this.failedLogins.check(key);
    if (!allowance.allowed) {
      const seconds = Math.ceil(allowance.retryAfterMs / 1000);
      return { ok: false, code: 'rate-limited', message: `too many failed logins from your address; try again in ${seconds} s` };
    }
    if (token) return { ok: true, token };
    if (this.authKeyHash && timingSafeEqual(sha256(presented ?? ''), this.authKeyHash)) return { ok: true };
    this.failedLogins.take(key);
    this.log(`refused agent from ${clientAddress}: wrong or missing auth key or token`);
    return { ok: false, code: 'unauthorized', message: 'the relay refused the auth key or token (missing, wrong or revoked)' };
  }

  /** The tunnel limit of a token (its own, else the relay's default), checked before a new tunnel session is accepted. */
  admitTunnel(token: TokenRecord | undefined, identityId: string): Admission {
    if (token === undefined) return { ok: true };
    const limit = token.maxTunnels ?? this.defaultMaxTunnels;
    if (limit === undefined) return { ok: true, token };
    // A reconnect of an identity already online replaces its old session, so it does not count.
    const others = new Set(this.registry.all().filter((s) => s.tokenId === token.id && s.identityId !== identityId).map((s) => s.identityId));
    if (others.size < limit) return { ok: true, token };
    this.usage.addRefusal(token.id);
    const whose = token.maxTunnels === undefined ? " (the relay's default)" : '';
    return {
      ok: false,
      code: 'limit-reached',
      message: `token "${token.name}" allows ${limit} tunnel(s) at once${whose} and ${others.size} are online; stop one or ask the relay operator to raise the limit`,
    };
  }

  /** Who a hello's identity will belong to, with the token's identity limit (its own, else the relay's default). */
  identityOwner(token: TokenRecord | undefined): IdentityOwner {
    if (token === undefined) return {};
    return { tokenId: token.id, tokenName: token.name, maxIdentities: token.maxIdentities ?? this.defaultMaxIdentities };
  }

  /** Each token's usage: tunnels online now, bytes and refusals over the last hour. */
  usageReport(): TokenUsageInfo[] {
    const online = new Map<string, number>();
    for (const session of this.registry.all()) {
      if (session.tokenId !== undefined) online.set(session.tokenId, (online.get(session.tokenId) ?? 0) + 1);
    }
    return this.usage.report(online);
  }

  /** Remembers a token session so that revoking its token closes it. */
  track(session: AgentSession): void {
    if (session.tokenId === undefined) return;
    this.tokenSessions.add(session);
    session.mux.once('close', () => this.tokenSessions.delete(session));
  }

  close(): void {
    this.stopListening();
  }

  private closeSessionsOf(record: TokenRecord): void {
    for (const session of this.tokenSessions) {
      if (session.tokenId !== record.id) continue;
      this.log(`closing ${session.hostname}: token ${record.id} was revoked`);
      session.close(CloseCode.Unauthorized, 'token revoked');
    }
  }
}
