/**
 * Everything that decides who gets in, gathered for the relay server: client addresses (trusted
 * proxies, PROXY protocol), agent admission (AUTH_KEY, tokens, failed-login rate limit, per-token
 * tunnel limit, revocation) and verified custom domains (with their DNS lookup budget). The
 * stores load before the relay listens.
 */
import type { Server } from 'node:net';
import { CustomDomains } from '../domains/custom-domains';
import type { IdentityStore } from '../identity-store';
import type { RelayOptions } from '../options';
import type { SessionFeatures } from '../session-policy';
import type { TunnelRegistry } from '../tunnel-registry';
import { AgentAdmission } from './agent-admission';
import { ClientAddressResolver } from './client-address-resolver';
import { requireProxyProtocol } from './proxy-protocol-gate';
import { DOMAIN_VERIFY_BURST } from './security-options';
import type { DocumentBackend } from '../document-backend';
import type { TokenBackend } from './token-backend';
import { TokenStore } from './token-store';
import { TrustedProxies } from './trusted-proxies';

export class RelaySecurity {
  readonly addresses: ClientAddressResolver;
  readonly admission: AgentAdmission;
  readonly customDomains: CustomDomains;
  private tokenStore: TokenStore | undefined;

  constructor(
    private readonly options: RelayOptions,
    registry: TunnelRegistry,
    features: SessionFeatures,
    identities: IdentityStore,
    private readonly log: (line: string) => void,
  ) {
    this.addresses = new ClientAddressResolver(new TrustedProxies(options.security.trustedProxies));
    this.admission = new AgentAdmission(options.authKey, registry, log, {
      maxTunnelsPerToken: options.security.maxTunnelsPerToken,
      maxIdentitiesPerToken: options.security.maxIdentitiesPerToken,
    });
    this.customDomains = new CustomDomains(features, {
      resolver: options.security.dnsResolver,
      verifyLimit: { burst: DOMAIN_VERIFY_BURST, intervalMs: options.security.domainVerifyIntervalMs },
      hostnameOf: (identityId) => identities.hostnameOf(identityId),
      log,
    });
  }

  /** The token store (for per-token limits of other features, e.g. `maxTcpPorts`); set once loaded. */
  get tokens(): TokenStore | undefined {
    return this.tokenStore;
  }

  /** Loads tokens.json, or `tokens` (Redis, for a cluster; watched: the CLI's changes apply live), and domains.json. */
  /** Loads tokens and custom domains: from the data dir, or from a cluster's shared backends. */
  async open(shared: { tokens?: TokenBackend; domains?: DocumentBackend } = {}): Promise<void> {
    const { tokens, domains } = shared;
    if (this.tokenStore) return;
    this.tokenStore = tokens ? await TokenStore.openWith(tokens, { watch: true }) : await TokenStore.open(this.options.dataDir, { watch: true });
    this.tokenStore.onError((err) => this.log(`tokens: ${err.message}`));
    this.admission.useTokens(this.tokenStore);
    await this.customDomains.open(this.options.dataDir, [this.options.domain], domains);
  }

  /** With --proxy-protocol, only trusted proxies stating a PROXY header reach the server. */
  guard(server: Server): void {
    if (!this.options.security.proxyProtocol) return;
    requireProxyProtocol(server, {
      trusted: this.addresses.trusted,
      timeoutMs: this.options.security.limits.headersTimeoutMs,
      onSource: (socket, address) => this.addresses.setProxySource(socket, address),
      log: this.log,
    });
  }

  close(): void {
    this.admission.close();
    this.tokenStore?.close();
  }
}
