/**
 * Obtained certificates, one directory per domain: `<dir>/<domain>/fullchain.pem` and `key.pem`,
 * both 0600. The agent keeps them beside its config (`<configDir>/certs`), the relay in its data
 * dir (`<dataDir>/certs`).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeAcmeDomain } from './domain-name';
import { readPrivateFile, writePrivateFileAtomic } from './private-file';

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_RENEW_BEFORE_DAYS = 30;

export interface CertificatePair {
  /** Leaf first, then intermediates (what a TLS server sends). */
  certPem: string;
  keyPem: string;
}

export interface StoredCertificate extends CertificatePair {
  domain: string;
  notBefore: Date;
  notAfter: Date;
  /** Upper-case hex, as X509Certificate reports it. */
  serialNumber: string;
  /** DNS names of the leaf's subjectAltName. */
  dnsNames: string[];
}

/** Parses and checks a pair: the leaf must match the key. Throws a user-facing error otherwise. */
export function inspectCertificatePair(domain: string, pair: CertificatePair): StoredCertificate {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(pair.certPem);
  } catch (err) {
    throw new Error(`certificate for ${domain} is not a valid PEM certificate: ${(err as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(pair.keyPem);
  } catch (err) {
    throw new Error(`private key for ${domain} is not a valid PEM private key: ${(err as Error).message}`);
  }
  if (!leaf.checkPrivateKey(key)) throw new Error(`certificate and private key for ${domain} do not match`);
  const dnsNames = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
  return {
    domain,
    certPem: pair.certPem,
    keyPem: pair.keyPem,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    serialNumber: leaf.serialNumber,
    dnsNames,
  };
}

/**
 * When a certificate should be renewed: `renewBeforeDays` before expiry, or with a third of its
 * lifetime left if that comes later (short-lived certificates would otherwise always be "due").
 */
export function renewalTime(cert: Pick<StoredCertificate, 'notBefore' | 'notAfter'>, renewBeforeDays = DEFAULT_RENEW_BEFORE_DAYS): Date {
  const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
  const before = Math.min(renewBeforeDays * DAY_MS, lifetime / 3);
  return new Date(cert.notAfter.getTime() - before);
}

export class CertificateStore {
  /** @param dir the `certs` directory, e.g. CertificateStore.besideConfig(configPath). */
  constructor(readonly dir: string) {}

  static besideConfig(configPath: string): CertificateStore {
    return new CertificateStore(path.join(path.dirname(configPath), 'certs'));
  }

  paths(domain: string): { dir: string; certPath: string; keyPath: string } {
    const dir = path.join(this.dir, normalizeAcmeDomain(domain));
    return { dir, certPath: path.join(dir, 'fullchain.pem'), keyPath: path.join(dir, 'key.pem') };
  }

  /**
   * Validates, then writes the key and then the chain, each atomically. A crash between the two
   * renames leaves a mismatched pair, which load() reports as absent, so it is simply reissued.
   */
  save(domain: string, pair: CertificatePair): StoredCertificate {
    const name = normalizeAcmeDomain(domain);
    const stored = inspectCertificatePair(name, pair);
    const { keyPath, certPath } = this.paths(name);
    writePrivateFileAtomic(keyPath, pair.keyPem);
    writePrivateFileAtomic(certPath, pair.certPem);
    return stored;
  }

  /** The stored pair, or undefined if there is none or it is unusable (unreadable, mismatched). */
  load(domain: string): StoredCertificate | undefined {
    const name = normalizeAcmeDomain(domain);
    const { keyPath, certPath } = this.paths(name);
    try {
      return inspectCertificatePair(name, { certPem: readPrivateFile(certPath), keyPem: readPrivateFile(keyPath) });
    } catch {
      return undefined;
    }
  }

  /**
   * True when there is no usable certificate for the domain (none, broken, or not naming it), or
   * `now` is inside its renewal window.
   */
  needsRenewal(domain: string, now: Date = new Date(), renewBeforeDays = DEFAULT_RENEW_BEFORE_DAYS): boolean {
    const cert = this.load(domain);
    if (!cert || !cert.dnsNames.includes(cert.domain)) return true;
    return now.getTime() >= renewalTime(cert, renewBeforeDays).getTime();
  }

  /** Domains that have a directory in the store (usable or not). */
  domains(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  }

  remove(domain: string): void {
    fs.rmSync(this.paths(domain).dir, { recursive: true, force: true });
  }
}
