import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { certificateCoversDomain, dnsAltNames, loadCertificatePair } from '../../agent/src/tls/cert-pair';

let dir: string;
const file = (name: string) => path.join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed P-256 certificate with SANs, valid from now for `days`. */
function selfSigned(name: string, sans: string, days = 2): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${name}.test`,
    '-addext', `subjectAltName=${sans}`, '-days', String(days));
}

/** A self-signed certificate with explicit validity dates, through `openssl ca` (x509 -req cannot set them in 3.0). */
function selfSignedWithDates(name: string, start: string, end: string): void {
  fs.mkdirSync(file(`${name}-ca`));
  fs.writeFileSync(file(`${name}-ca/index.txt`), '');
  fs.writeFileSync(file(`${name}-ca/serial`), '01\n');
  fs.writeFileSync(file(`${name}.cnf`), [
    '[ca]', 'default_ca = d', '[d]', `database = ${name}-ca/index.txt`, `new_certs_dir = ${name}-ca`,
    `serial = ${name}-ca/serial`, 'default_md = sha256', 'policy = p', 'copy_extensions = copy',
    '[p]', 'commonName = supplied', '',
  ].join('\n'));
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}.test`,
    '-addext', `subjectAltName=DNS:${name}.test`);
  openssl('ca', '-batch', '-config', `${name}.cnf`, '-selfsign', '-keyfile', `${name}.key`, '-in', `${name}.csr`,
    '-startdate', start, '-enddate', end, '-notext', '-out', `${name}.pem`);
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portway-certpair-'));
  selfSigned('good', 'DNS:App.Example.TEST,DNS:*.wild.example.test,IP:127.0.0.1');
  selfSigned('other', 'DNS:other.test');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa.key', '-out', 'rsa.pem',
    '-subj', '/CN=rsa.test', '-addext', 'subjectAltName=DNS:rsa.test', '-days', '2');

  // A CA and a leaf it signed: the fullchain is leaf then CA.
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Test CA', '-days', '2');
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf.test');
  fs.writeFileSync(file('leaf.ext'), 'subjectAltName=DNS:leaf.test\n');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-extfile', 'leaf.ext', '-days', '2', '-out', 'leaf.pem');
  fs.writeFileSync(file('fullchain.pem'), fs.readFileSync(file('leaf.pem'), 'utf8') + fs.readFileSync(file('ca.pem'), 'utf8'));
  fs.writeFileSync(file('reversed.pem'), fs.readFileSync(file('ca.pem'), 'utf8') + fs.readFileSync(file('leaf.pem'), 'utf8'));

  selfSignedWithDates('expired', '20200101000000Z', '20200102000000Z');
  selfSignedWithDates('future', '20990101000000Z', '20990102000000Z');

  openssl('x509', '-in', 'good.pem', '-outform', 'DER', '-out', 'good.der');
  openssl('pkey', '-in', 'good.key', '-aes256', '-passout', 'pass:secret', '-out', 'encrypted.key');
  openssl('ec', '-in', 'good.key', '-aes256', '-passout', 'pass:secret', '-out', 'encrypted-legacy.key');
  const good = fs.readFileSync(file('good.pem'), 'utf8');
  // Flip base64 inside the block: still PEM-shaped, no longer a certificate.
  fs.writeFileSync(file('corrupt.pem'), good.replace(/\n([A-Za-z0-9+/]{20})/, '\nAAAAAAAAAAAAAAAAAAAA'));
  fs.writeFileSync(file('text.txt'), 'hello, I am not a certificate\n');
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadCertificatePair: good pairs', () => {
  it('returns the PEMs, validity and DNS names of a matching EC pair', () => {
    const pair = loadCertificatePair(file('good.pem'), file('good.key'));
    assert.equal(pair.cert, fs.readFileSync(file('good.pem'), 'utf8'));
    assert.equal(pair.key, fs.readFileSync(file('good.key'), 'utf8'));
    assert.deepEqual(pair.subjectAltNames, ['app.example.test', '*.wild.example.test']);
    const hours = (pair.notAfter.getTime() - Date.now()) / 3_600_000;
    assert.ok(hours > 46 && hours <= 48, `notAfter in ${hours} h`);
    assert.ok(pair.notBefore.getTime() <= Date.now());
  });

  it('accepts an RSA pair', () => {
    assert.deepEqual(loadCertificatePair(file('rsa.pem'), file('rsa.key')).subjectAltNames, ['rsa.test']);
  });

  it('accepts a fullchain in order and the result works in a TLS context', () => {
    const pair = loadCertificatePair(file('fullchain.pem'), file('leaf.key'));
    assert.deepEqual(pair.subjectAltNames, ['leaf.test']);
    assert.doesNotThrow(() => tls.createSecureContext({ cert: pair.cert, key: pair.key }));
  });
});

describe('loadCertificatePair: clear errors', () => {
  const cases: Array<[string, () => [string, string], RegExp]> = [
    ['a missing certificate file', () => [file('nope.pem'), file('good.key')], /cannot read certificate file .*nope\.pem: ENOENT/],
    ['a missing key file', () => [file('good.pem'), file('nope.key')], /cannot read private key file .*nope\.key: ENOENT/],
    ['a directory as certificate', () => [dir, file('good.key')], /cannot read certificate file .*: EISDIR/],
    ['a key that belongs to another certificate', () => [file('good.pem'), file('other.key')], /private key in .*other\.key does not match the certificate in .*good\.pem/],
    ['an RSA key for an EC certificate', () => [file('good.pem'), file('rsa.key')], /does not match/],
    ['the CA key for a leaf', () => [file('fullchain.pem'), file('ca.key')], /does not match/],
    ['a DER certificate', () => [file('good.der'), file('good.key')], /good\.der is not a PEM certificate/],
    ['a text file as certificate', () => [file('text.txt'), file('good.key')], /text\.txt is not a PEM certificate/],
    ['a text file as key', () => [file('good.pem'), file('text.txt')], /text\.txt is not a PEM private key/],
    ['swapped files', () => [file('good.key'), file('good.pem')], /holds a private key: are the certificate and key swapped/],
    ['a corrupted certificate block', () => [file('corrupt.pem'), file('good.key')], /corrupt\.pem: certificate 1 is not a valid X\.509 certificate/],
    ['an encrypted PKCS#8 key', () => [file('good.pem'), file('encrypted.key')], /encrypted\.key is encrypted/],
    ['an encrypted traditional key', () => [file('good.pem'), file('encrypted-legacy.key')], /encrypted-legacy\.key is encrypted/],
    ['a fullchain in the wrong order', () => [file('reversed.pem'), file('ca.key')], /reversed\.pem: certificate 2 did not issue certificate 1/],
    ['an expired certificate', () => [file('expired.pem'), file('expired.key')], /expired\.pem expired on 2020-01-02T00:00:00\.000Z/],
    ['a not-yet-valid certificate', () => [file('future.pem'), file('future.key')], /future\.pem is not valid until 2099-01-01T00:00:00\.000Z/],
  ];
  for (const [what, paths, message] of cases) {
    it(`rejects ${what}`, () => {
      const [certPath, keyPath] = paths();
      assert.throws(() => loadCertificatePair(certPath, keyPath), (err: Error) => {
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('judges expiry by the given clock', () => {
    const { notAfter } = loadCertificatePair(file('good.pem'), file('good.key'));
    const later = new Date(notAfter.getTime() + 1000);
    assert.throws(() => loadCertificatePair(file('good.pem'), file('good.key'), later), /expired on/);
    const expiredPair = loadCertificatePair(file('expired.pem'), file('expired.key'), new Date('2020-01-01T12:00:00Z'));
    assert.deepEqual(expiredPair.subjectAltNames, ['expired.test']);
  });
});

describe('dnsAltNames', () => {
  it('keeps DNS entries only, normalised, and unquotes escaped ones', () => {
    assert.deepEqual(dnsAltNames(undefined), []);
    assert.deepEqual(dnsAltNames('DNS:A.test, IP Address:127.0.0.1, DNS:*.b.test., email:x@y.test'), ['a.test', '*.b.test']);
    assert.deepEqual(dnsAltNames('DNS:"weird, name", DNS:c.test'), ['weird, name', 'c.test']);
  });
});

describe('certificateCoversDomain', () => {
  const names = ['app.example.test', '*.wild.example.test', 'Upper.Test.'];
  const table: Array<[string, boolean]> = [
    ['app.example.test', true],
    ['APP.example.test.', true],
    ['upper.test', true],
    ['example.test', false],
    ['x.app.example.test', false],
    ['a.wild.example.test', true],
    ['A.Wild.Example.Test.', true],
    ['wild.example.test', false],
    ['a.b.wild.example.test', false],
    ['.wild.example.test', false],
    ['*.wild.example.test', false],
    ['', false],
  ];
  for (const [domain, covered] of table) {
    it(`${JSON.stringify(domain)} → ${covered}`, () => {
      assert.equal(certificateCoversDomain(names, domain), covered);
    });
  }

  it('a wildcard over one label, or a partial wildcard, covers nothing', () => {
    assert.equal(certificateCoversDomain(['*.test'], 'a.test'), false);
    assert.equal(certificateCoversDomain(['f*.example.test'], 'foo.example.test'), false);
    assert.equal(certificateCoversDomain(['*.*.example.test'], 'a.b.example.test'), false);
    assert.equal(certificateCoversDomain([], 'a.test'), false);
  });
});
