/**
 * Certificates for TLS tests, made with Debian's `openssl`: a throwaway CA and leaves it signs.
 * Nothing is trusted system-wide; tests pass the CA explicitly.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TestCertificate {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr || result.error}`);
}

function read(dir: string, name: string): TestCertificate {
  const certPath = path.join(dir, `${name}.pem`);
  const keyPath = path.join(dir, `${name}.key`);
  return { certPath, keyPath, certPem: fs.readFileSync(certPath, 'utf8'), keyPem: fs.readFileSync(keyPath, 'utf8') };
}

/** A self-signed CA named `name` in dir (name.pem, name.key). */
export function makeCa(dir: string, name = 'ca'): TestCertificate {
  openssl(['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=Portway test CA ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir);
  return read(dir, name);
}

/** A server certificate for `dnsNames`, signed by ca (name.pem holds leaf then CA: a full chain). */
export function makeLeaf(dir: string, ca: TestCertificate, name: string, dnsNames: string[]): TestCertificate {
  openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${dnsNames[0]}`], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`), [
    `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(',')}`,
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
  ].join('\n'));
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial',
    '-out', `${name}.leaf.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
  fs.writeFileSync(path.join(dir, `${name}.pem`), fs.readFileSync(path.join(dir, `${name}.leaf.pem`), 'utf8') + ca.certPem);
  return read(dir, name);
}
