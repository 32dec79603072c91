/**
 * The certificates of `--letsencrypt` routes: obtained from the configured ACME directory once the
 * tunnel is online (HTTP-01 answered through it), stored beside the config (0600), renewed
 * before expiry. Emits 'certificate' (domain, StoredCertificate) for each new one, so the TLS
 * contexts are swapped without a restart.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentConfig } from '../config/schema';
import { LETS_ENCRYPT_DIRECTORY, obtainCertificate } from '../../../common/acme/acme-issuer';
import { CertificateStore, type StoredCertificate } from '../../../common/acme/cert-store';
import { ChallengeStore } from '../../../common/acme/challenge-store';
import { RenewalScheduler } from '../../../common/acme/renewal';

/** First retry after a failed issuance; doubles per failure (RenewalScheduler caps it at a day). */
const FIRST_RETRY_MS = 5 * 60 * 1000;

export function acmeDomains(config: AgentConfig): string[] {
  return config.http.filter((route) => route.letsencrypt).map((route) => route.domain);
}

/** What AcmeCertificates emits: a certificate issued or renewed for a domain. */
export interface AcmeCertificatesEvents {
  certificate: [domain: string, certificate: StoredCertificate];
}

export class AcmeCertificates extends EventEmitter<AcmeCertificatesEvents> {
  readonly challenges = new ChallengeStore();
  readonly store: CertificateStore;
  private readonly scheduler: RenewalScheduler;
  private running = false;

  constructor(
    private readonly configPath: string,
    private config: AgentConfig,
    private readonly log: (line: string) => void,
  ) {
    super();
    this.store = CertificateStore.besideConfig(configPath);
    this.scheduler = new RenewalScheduler({
      store: this.store,
      domains: () => acmeDomains(this.config),
      issue: (domain) => this.issue(domain),
      minRetryDelayMs: FIRST_RETRY_MS,
    });
    this.scheduler.on('renewed', ({ domain, certificate, previous }) => {
      const what = previous ? 'renewed' : 'issued';
      this.log(`certificate for ${domain} ${what} (serial ${certificate.serialNumber}, valid until ${certificate.notAfter.toISOString()})`);
      this.emit('certificate', domain, certificate);
    });
    this.scheduler.on('failed', ({ domain, error, retryAt }) => {
      this.log(`portway: could not obtain a certificate for ${domain}: ${error.message} (next attempt ${retryAt.toISOString()})`);
    });
  }

  /** The stored certificate of a domain, if any (usable or not yet renewed). */
  stored(domain: string): StoredCertificate | undefined {
    return this.store.load(domain);
  }

  update(config: AgentConfig): void {
    const added = acmeDomains(config).filter((domain) => !acmeDomains(this.config).includes(domain));
    this.config = config;
    for (const domain of added) this.scheduler.resetBackoff(domain);
    if (this.running && added.length > 0) void this.scheduler.checkNow();
  }

  /** Called when the tunnel is online: the CA's HTTP-01 requests can reach us from now on. */
  online(): void {
    if (this.running) return void this.scheduler.checkNow();
    this.running = true;
    this.scheduler.start();
  }

  stop(): void {
    this.running = false;
    this.scheduler.stop();
  }

  private issue(domain: string) {
    const bundle = this.config.acmeCaBundle;
    return obtainCertificate({
      directoryUrl: this.config.acmeDirectory ?? LETS_ENCRYPT_DIRECTORY,
      caBundle: bundle ? fs.readFileSync(bundle, 'utf8') : undefined,
      accountKeyPath: path.join(path.dirname(this.configPath), 'acme', 'account.key'),
      domain,
      challenges: this.challenges,
      log: this.log,
    });
  }
}
