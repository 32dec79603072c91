/**
 * Certificates for the relay's own names from ACME (`--acme`): the apex at start, and each
 * agent's hostname when its agent first comes online (HTTP-01 cannot issue a wildcard, so one
 * certificate per name). The relay answers the HTTP-01 challenges itself on its public HTTP port
 * (RelayServer asks `answer()` before routing anything to an agent). Certificates are stored in
 * `<dataDir>/certs/<name>/` (0600, atomic), renewed before expiry, and served from the next
 * handshake on (`contextFor`, read by the HTTPS listener's SNI choice).
 *
 * The ACME client, challenge store, certificate store and renewal are the agent's, shared in
 * common/acme/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { obtainCertificate } from '../../../common/acme/acme-issuer';
import { CertificateStore, type CertificatePair, type StoredCertificate } from '../../../common/acme/cert-store';
import { answerOwnChallenge, ChallengeStore, type ChallengeAnswer } from '../../../common/acme/challenge-store';
import { normalizeAcmeDomain } from '../../../common/acme/domain-name';
import { RenewalScheduler } from '../../../common/acme/renewal';
import type { ObtainedCertificates } from './own-certificate';
import type { RelayAcmeOptions } from './https-options';

/** First retry after a failed issuance; doubles per failure (RenewalScheduler caps it at a day). */
const FIRST_RETRY_MS = 5 * 60 * 1000;

export interface RelayAcmeSettings extends RelayAcmeOptions {
  dataDir: string;
  /** The apex domain. */
  domain: string;
  /** Names the --tls-cert pair covers: never ordered (the given pair wins). */
  coveredByGiven(name: string): boolean;
  /** Whether a name found in the store is still the relay's (the apex, or a hostname an agent holds). */
  isOwnName(name: string): boolean;
  log(line: string): void;
}

export class RelayAcme implements ObtainedCertificates {
  readonly challenges = new ChallengeStore();
  readonly store: CertificateStore;
  private readonly scheduler: RenewalScheduler;
  /** The names kept certified (normalized). */
  private readonly names = new Set<string>();
  private readonly contexts = new Map<string, tls.SecureContext>();

  constructor(private readonly settings: RelayAcmeSettings) {
    this.store = new CertificateStore(path.join(settings.dataDir, 'certs'));
    this.scheduler = new RenewalScheduler({
      store: this.store,
      domains: () => this.names,
      issue: (domain) => this.issue(domain),
      minRetryDelayMs: FIRST_RETRY_MS,
    });
    this.scheduler.on('renewed', ({ domain, certificate, previous }) => {
      this.use(certificate);
      const what = previous ? 'renewed' : 'issued';
      settings.log(`ACME: certificate for ${domain} ${what} (serial ${certificate.serialNumber}, valid until ${certificate.notAfter.toISOString()})`);
    });
    this.scheduler.on('failed', ({ domain, error, retryAt }) => {
      settings.log(`ACME: could not obtain a certificate for ${domain}: ${error.message} (next attempt ${retryAt.toISOString()})`);
    });
  }

  /** Certifies the apex and the names already in the store, then keeps them renewed. */
  start(): void {
    this.want(this.settings.domain, true);
    for (const name of this.store.domains()) {
      if (this.settings.isOwnName(name)) this.want(name, false);
    }
    this.scheduler.start();
  }

  stop(): void {
    this.scheduler.stop();
  }

  /** An agent's hostname is online: order its certificate now if it has none yet. */
  hostnameOnline(hostname: string): void {
    if (this.want(hostname, true)) void this.scheduler.checkNow();
  }

  /** The certificate for a name, as of now (renewals replace it for the next handshake). */
  contextFor(serverName: string): tls.SecureContext | undefined {
    return this.contexts.get(serverName.toLowerCase());
  }

  /** The answer to a CA's HTTP-01 request for one of our tokens; undefined for anything else. */
  answer(method: string, url: string): ChallengeAnswer | undefined {
    return answerOwnChallenge(this.challenges, method, url);
  }

  /** Names being kept certified (for logs and tests). */
  certifiedNames(): string[] {
    return [...this.names].sort();
  }

  /** Adds a name; true when it is new. A stored certificate for it is served at once. */
  private want(name: string, logInvalid: boolean): boolean {
    let normalized: string;
    try {
      normalized = normalizeAcmeDomain(name);
    } catch (err) {
      if (logInvalid) this.settings.log(`ACME: skipping ${name}: ${(err as Error).message}`);
      return false;
    }
    if (this.names.has(normalized) || this.settings.coveredByGiven(normalized)) return false;
    this.names.add(normalized);
    const stored = this.store.load(normalized);
    if (stored?.dnsNames.includes(normalized)) this.use(stored);
    return true;
  }

  private use(certificate: StoredCertificate): void {
    this.contexts.set(certificate.domain, tls.createSecureContext({ cert: certificate.certPem, key: certificate.keyPem }));
  }

  private issue(domain: string): Promise<CertificatePair> {
    const { directoryUrl, caBundleFile, email, dataDir, log } = this.settings;
    return obtainCertificate({
      directoryUrl,
      caBundle: caBundleFile ? fs.readFileSync(caBundleFile, 'utf8') : undefined,
      email,
      accountKeyPath: path.join(dataDir, 'acme', 'account.key'),
      domain,
      challenges: this.challenges,
      log,
    });
  }
}
