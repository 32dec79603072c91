/**
 * Obtains one certificate for one domain from an ACME CA with the HTTP-01 challenge, answered
 * by whatever serves the domain's plain HTTP from `challenges`: the agent through the tunnel for
 * its routes, the relay itself for its own names. Shared by both packages (common/acme/).
 */
import * as acme from 'acme-client';
import { createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import { AcmeChallengeFailedError, AcmeDirectoryUnreachableError, AcmeError, AcmeProblemError, type AcmeProblem } from './acme-errors';
import { checkDirectory, useDirectory } from './acme-transport';
import { inspectCertificatePair } from './cert-store';
import type { ChallengeStore } from './challenge-store';
import { normalizeAcmeDomain } from './domain-name';
import { readPrivateFile, writePrivateFileAtomic } from './private-file';

export const LETS_ENCRYPT_DIRECTORY = acme.directory.letsencrypt.production;

export interface ObtainCertificateOptions {
  directoryUrl: string;
  domain: string;
  /** Created (0600) on first use and reused after, so the account survives restarts. */
  accountKeyPath: string;
  challenges: ChallengeStore;
  /** PEM of a CA to trust for the directory's HTTPS (a private CA, pebble's), besides the public roots. */
  caBundle?: string;
  /** Contact for expiry notices from the CA. */
  email?: string;
  /** First wait between polls of a pending challenge/order; doubles up to 10 s. */
  pollMinMs?: number;
  /** Called with progress lines ("ordering", "validating"…) for the output channel. */
  log?: (line: string) => void;
}

export interface IssuedCertificate {
  /** Leaf then intermediates. */
  certPem: string;
  /** PKCS#8 PEM of a fresh P-256 key (never reused across certificates). */
  keyPem: string;
  notAfter: Date;
  serialNumber: string;
}

const POLL_MAX_MS = 10_000;
const POLL_ATTEMPTS = 12;

/** Reads the account key, or creates a P-256 one on first use. */
async function loadOrCreateAccountKey(file: string): Promise<string> {
  if (fs.existsSync(file)) {
    const pem = readPrivateFile(file);
    try {
      createPrivateKey(pem);
    } catch (err) {
      throw new AcmeError(`ACME account key ${file} is not a usable private key: ${(err as Error).message}`);
    }
    return pem;
  }
  const pem = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
  writePrivateFileAtomic(file, pem);
  return pem;
}

/**
 * Finds the account of this key, or registers it. For a known key, newAccount answers 200 and
 * acme-client then "updates" the account with the same fields, which strict CAs (pebble) refuse
 * as an empty update; so the lookup (onlyReturnExisting, then POST-as-GET) comes first.
 */
async function registerAccount(client: acme.Client, email: string | undefined): Promise<void> {
  try {
    await client.createAccount({ onlyReturnExisting: true });
    return;
  } catch (err) {
    if (!(err instanceof AcmeProblemError && err.problem.type.endsWith(':accountDoesNotExist'))) throw err;
  }
  await client.createAccount({ termsOfServiceAgreed: true, ...(email ? { contact: [`mailto:${email}`] } : {}) });
}

function problemOf(value: unknown): AcmeProblem | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, detail, status } = value as Record<string, unknown>;
  if (typeof type !== 'string') return undefined;
  return { type, detail: typeof detail === 'string' ? detail : undefined, status: typeof status === 'number' ? status : undefined };
}

/** Network-level failures that survived acme-client's own retries. */
function isNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(ECONN|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNABORTED|ERR_TLS|CERT_|UNABLE_TO)/.test(code);
}

export async function obtainCertificate(options: ObtainCertificateOptions): Promise<IssuedCertificate> {
  const domain = normalizeAcmeDomain(options.domain);
  const log = options.log ?? (() => undefined);
  const { directoryUrl, challenges } = options;

  useDirectory(directoryUrl, options.caBundle);
  await checkDirectory(directoryUrl);

  let step = 'reading the account key';
  try {
    const accountKey = await loadOrCreateAccountKey(options.accountKeyPath);
    const pollMin = options.pollMinMs ?? 250;
    const client = new acme.Client({
      directoryUrl,
      accountKey,
      backoffAttempts: POLL_ATTEMPTS,
      backoffMin: pollMin,
      backoffMax: Math.max(pollMin, POLL_MAX_MS),
    });

    step = 'registering the ACME account';
    await registerAccount(client, options.email);

    step = 'placing the order';
    log(`ACME: ordering a certificate for ${domain}`);
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: domain }] });

    step = 'validating the domain';
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.status === 'valid') continue; // the CA remembers a recent validation
      const challenge = authz.challenges.find((c) => c.type === 'http-01');
      if (!challenge) throw new AcmeError(`the ACME server offered no http-01 challenge for ${authz.identifier.value}`);
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      challenges.set(challenge.token, keyAuthorization);
      try {
        log(`ACME: answering the HTTP-01 challenge for ${authz.identifier.value}`);
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(challenge);
      } catch (err) {
        if (err instanceof AcmeError) throw err;
        // acme-client reports only the detail text; fetch the challenge's problem document.
        const refreshed = (await client.getAuthorizations(order).catch(() => [])).find((a) => a.url === authz.url);
        const failed = refreshed?.challenges.find((c) => c.url === challenge.url);
        const problem = problemOf(failed?.error) ?? { type: 'unknown', detail: (err as Error).message };
        throw new AcmeChallengeFailedError(authz.identifier.value, problem);
      } finally {
        challenges.delete(challenge.token);
      }
    }

    step = 'finalizing the order';
    const keyPem = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    const [, csr] = await acme.crypto.createCsr({ commonName: domain, altNames: [domain] }, keyPem);
    const finalized = await client.finalizeOrder(order, csr);

    step = 'downloading the certificate';
    const certPem = await client.getCertificate(finalized);
    const stored = inspectCertificatePair(domain, { certPem, keyPem });
    if (!stored.dnsNames.includes(domain)) throw new AcmeError(`the issued certificate does not name ${domain}`);
    log(`ACME: certificate for ${domain} issued, valid until ${stored.notAfter.toISOString()}`);
    return { certPem, keyPem, notAfter: stored.notAfter, serialNumber: stored.serialNumber };
  } catch (err) {
    if (err instanceof AcmeError) throw err;
    if (isNetworkError(err)) throw new AcmeDirectoryUnreachableError(directoryUrl, `${(err as Error).message} (while ${step})`);
    throw new AcmeError(`ACME issuance for ${domain} failed while ${step}: ${(err as Error).message}`);
  }
}
