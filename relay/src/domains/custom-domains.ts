/**
 * Custom domains on the relay: the control requests (challenge, verify, list, remove) that bind a
 * domain to the identity of the session asking, the rule that lets that identity announce routes
 * on it, and the lookup that routes its hosts to the owner's tunnel. Every request acts on the
 * session's own identity; no request can name, touch or learn about another identity's domains.
 */
import { ControlRequestError } from '../../../mux/control-channel';
import { DomainMethod, parseDomainParams, type DomainChallenge, type DomainList, type VerifiedDomain } from '../../../protocol/control-domains';
import type { AgentSession } from '../agent-session';
import type { SessionFeatures } from '../session-policy';
import { DomainNameError, normalizeDomain } from './domain-name';
import type { DocumentBackend } from '../document-backend';
import { DomainStore, DomainStoreError } from './domain-store';
import { DomainVerificationError, expectedTxtValue, txtRecordName, verifyDomainTxt } from './txt-verifier';
import { VerificationLimit, type VerificationLimitOptions } from './verification-limit';

export interface CustomDomainsOptions {
  /** DNS server for TXT checks (`host:port`); the system's when absent. */
  resolver?: string;
  /** Budget of TXT lookups per token (or identity without one). */
  verifyLimit: VerificationLimitOptions;
  /** The assigned hostname of an identity (tunnels are registered by hostname). */
  hostnameOf: (identityId: string) => string | undefined;
  log: (line: string) => void;
}

export class CustomDomains {
  private store: DomainStore | undefined;
  private readonly verifyLimit: VerificationLimit;

  constructor(
    features: SessionFeatures,
    private readonly options: CustomDomainsOptions,
  ) {
    this.verifyLimit = new VerificationLimit(options.verifyLimit);
    features.allowDomains((session, domain) => this.store?.owns(session.identityId, domain) ?? false);
    features.handle(DomainMethod.Challenge, (session, params) => this.challenge(session, params));
    features.handle(DomainMethod.Verify, (session, params) => this.verify(session, params));
    features.handle(DomainMethod.List, (session) => this.list(session));
    features.handle(DomainMethod.Remove, (session, params) => this.remove(session, params));
  }

  /** Loads domains.json (or `backend`: Redis); `reserved` are the relay's own names, which nobody may bind. */
  async open(dataDir: string, reserved: string[], backend?: DocumentBackend): Promise<void> {
    this.store = await DomainStore.open(dataDir, { reserved, backend });
  }

  /** Whether the identity holds a verified custom domain (its hostname is then never reclaimed). */
  holdsDomains(identityId: string): boolean {
    return (this.store?.list(identityId).length ?? 0) > 0;
  }

  /** The assigned hostname of the tunnel serving `host` through a verified custom domain. */
  tunnelHostnameFor(host: string): string | undefined {
    const owner = this.store?.ownerOf(host);
    return owner === undefined ? undefined : this.options.hostnameOf(owner);
  }

  private get domains(): DomainStore {
    if (!this.store) throw new ControlRequestError('unavailable', 'custom domains are not loaded yet');
    return this.store;
  }

  private challenge(session: AgentSession, params: unknown): DomainChallenge {
    return guard(() => {
      const domain = normalizeDomain(parseDomainParams(params).domain);
      this.domains.checkBindable(session.identityId, domain);
      return { domain, recordName: txtRecordName(domain), recordType: 'TXT', recordValue: expectedTxtValue(session.identityId, domain) };
    });
  }

  private verify(session: AgentSession, params: unknown): Promise<VerifiedDomain> {
    return guard(async () => {
      const domain = normalizeDomain(parseDomainParams(params).domain);
      this.domains.checkBindable(session.identityId, domain); // before any DNS traffic
      this.verifyLimit.spend(session); // refused requests cost no lookup
      await verifyDomainTxt(domain, expectedTxtValue(session.identityId, domain), { resolver: this.options.resolver });
      const binding = await this.domains.bind(session.identityId, domain);
      this.options.log(`domain verified: ${domain} for ${session.hostname}`);
      return { domain: binding.domain, verifiedAt: binding.verifiedAt };
    });
  }

  private list(session: AgentSession): DomainList {
    return { domains: this.domains.list(session.identityId).map((b) => ({ domain: b.domain, verifiedAt: b.verifiedAt })) };
  }

  private remove(session: AgentSession, params: unknown): Promise<VerifiedDomain> {
    return guard(async () => {
      const domain = normalizeDomain(parseDomainParams(params).domain);
      const binding = await this.domains.unbind(session.identityId, domain);
      this.options.log(`domain removed: ${domain} by ${session.hostname}`);
      return { domain: binding.domain, verifiedAt: binding.verifiedAt };
    });
  }
}

/** Turns the domain modules' typed errors into control errors with a code the agent can show. */
function guard<T>(work: () => T): T {
  const translate = (err: unknown): never => {
    if (err instanceof DomainNameError || err instanceof TypeError) throw new ControlRequestError('invalid-domain', err.message);
    if (err instanceof DomainStoreError || err instanceof DomainVerificationError) throw new ControlRequestError(err.code, err.message);
    throw err;
  };
  try {
    const result = work();
    return (result instanceof Promise ? result.catch(translate) : result) as T;
  } catch (err) {
    return translate(err);
  }
}
