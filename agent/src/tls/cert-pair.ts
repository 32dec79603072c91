/**
 * Validates a user-supplied certificate/key pair (`route http add --ca FULLCHAIN --key KEY`)
 * before the agent terminates TLS with it, so a wrong file is an error at `add`
 * naming the file and the problem, not a handshake failure later.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import { domainLookupKey } from '../../../common/domain-name';

export interface LoadedCertificatePair {
  /** The fullchain PEM as read (leaf first, then intermediates), for tls.createSecureContext. */
  cert: string;
  /** The private key PEM as read. */
  key: string;
  notBefore: Date;
  notAfter: Date;
  /** The leaf's DNS subjectAltNames, lower-case, without trailing dot; wildcards kept as "*.x". */
  subjectAltNames: string[];
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const KEY_BEGIN = /-----BEGIN ([A-Z ]*PRIVATE KEY)-----/;

/**
 * Reads and checks a fullchain and its key: both readable PEM, the key matches the
 * leaf, the chain is in order, the leaf is valid now. Throws an Error whose
 * message is meant for the user.
 */
export function loadCertificatePair(fullchainPath: string, keyPath: string, now: Date = new Date()): LoadedCertificatePair {
  const cert = readText(fullchainPath, 'certificate');
  const key = readText(keyPath, 'private key');
  const chain = parseChain(fullchainPath, cert);
  const privateKey = parseKey(keyPath, key);
  const leaf = chain[0];

  let matches: boolean;
  try {
    matches = leaf.checkPrivateKey(privateKey);
  } catch {
    matches = false; // e.g. an RSA key against an EC certificate on some OpenSSL builds
  }
  if (!matches) {
    throw new Error(`the private key in ${keyPath} does not match the certificate in ${fullchainPath} (${leaf.subject.replace(/\n/g, ', ')})`);
  }
  for (let i = 1; i < chain.length; i++) {
    if (!chain[i - 1].checkIssued(chain[i])) {
      throw new Error(
        `${fullchainPath}: certificate ${i + 1} did not issue certificate ${i}; a fullchain lists the server certificate first, then each issuer in turn`,
      );
    }
  }

  const notBefore = parseCertDate(fullchainPath, leaf.validFrom);
  const notAfter = parseCertDate(fullchainPath, leaf.validTo);
  if (now.getTime() > notAfter.getTime()) {
    throw new Error(`the certificate in ${fullchainPath} expired on ${notAfter.toISOString()}`);
  }
  if (now.getTime() < notBefore.getTime()) {
    throw new Error(`the certificate in ${fullchainPath} is not valid until ${notBefore.toISOString()}`);
  }
  return { cert, key, notBefore, notAfter, subjectAltNames: dnsAltNames(leaf.subjectAltName) };
}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot read ${what} file ${file}: ${e.code ?? e.message}`);
  }
}

function parseChain(file: string, pem: string): X509Certificate[] {
  const blocks = pem.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) {
    const hint = KEY_BEGIN.test(pem) ? ' (it holds a private key: are the certificate and key swapped?)' : '';
    throw new Error(`${file} is not a PEM certificate: no "BEGIN CERTIFICATE" block${hint}`);
  }
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new Error(`${file}: certificate ${i + 1} is not a valid X.509 certificate (${(err as Error).message})`);
    }
  });
}

function parseKey(file: string, pem: string): KeyObject {
  const begin = KEY_BEGIN.exec(pem);
  if (!begin) {
    const hint = pem.includes('-----BEGIN CERTIFICATE-----') ? ' (it holds a certificate: are the certificate and key swapped?)' : '';
    throw new Error(`${file} is not a PEM private key: no "BEGIN PRIVATE KEY" block${hint}`);
  }
  if (begin[1] === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(pem)) {
    // The agent runs unattended; there is nobody to ask for a passphrase.
    throw new Error(`${file} is encrypted; store it unencrypted (openssl pkey -in ${file} -out key.pem) and protect it with file permissions`);
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${file} is not a valid private key (${(err as Error).message})`);
  }
}

function parseCertDate(file: string, text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new Error(`${file}: unreadable validity date ${JSON.stringify(text)}`);
  return date;
}

/**
 * DNS names from X509Certificate.subjectAltName ("DNS:a, DNS:*.b, IP Address:…").
 * Node JSON-quotes a value that contains ", " or quotes, so those are unquoted here.
 */
export function dnsAltNames(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const names: string[] = [];
  const entry = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m = entry.exec(subjectAltName); m !== null; m = entry.exec(subjectAltName)) {
    if (m[1] !== 'DNS') continue;
    let value = m[2];
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    names.push(normalizeName(value));
  }
  return names;
}

/** SAN entries may be wildcards, so only the lookup form applies (no validation). */
function normalizeName(name: string): string {
  return domainLookupKey(name);
}

/**
 * Whether a certificate with these DNS names is valid for `domain`, the way browsers
 * decide (RFC 6125 §6.4): exact match, or "*." standing for exactly one whole
 * left-most label. "*.example.com" covers "a.example.com" but not "example.com"
 * or "a.b.example.com"; a wildcard over a single label ("*.com") covers nothing.
 */
export function certificateCoversDomain(altNames: readonly string[], domain: string): boolean {
  const host = normalizeName(domain);
  if (host === '' || host.includes('*')) return false;
  return altNames.some((raw) => {
    const name = normalizeName(raw);
    if (!name.startsWith('*.')) return name === host;
    const suffix = name.slice(2);
    if (!suffix.includes('.') || suffix.includes('*')) return false;
    const dot = host.indexOf('.');
    return dot > 0 && host.slice(dot + 1) === suffix;
  });
}
