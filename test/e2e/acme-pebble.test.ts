/**
 * The agent's ACME module against a real CA: Debian's pebble on loopback, validating HTTP-01 by
 * fetching the token from a plain HTTP server that answers from a ChallengeStore (the role the
 * agent plays behind the tunnel). Names resolve to 127.0.0.1 through the test DNS server.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import {
  AcmeChallengeFailedError,
  AcmeDirectoryUnreachableError,
  AcmeProblemError,
  AcmeRateLimitedError,
} from '../../common/acme/acme-errors';
import { obtainCertificate, type ObtainCertificateOptions } from '../../common/acme/acme-issuer';
import { CertificateStore, renewalTime } from '../../common/acme/cert-store';
import { answerChallenge, ChallengeStore } from '../../common/acme/challenge-store';
import { RenewalScheduler, type FailedEvent, type RenewalTimers, type RenewedEvent } from '../../common/acme/renewal';
import { startPebble, type Pebble } from '../helpers/pebble';

const DOMAIN = 'app.portway.test';
const DAY_MS = 24 * 60 * 60 * 1000;

interface ChallengeServer {
  port: number;
  /** Host header and path of every request the CA made. */
  hits: { host: string; path: string; status: number }[];
  close(): Promise<void>;
}

/** The plain-HTTP side of a route: answers ACME challenges from `store`, 404 for anything else. */
async function startChallengeServer(store: ChallengeStore): Promise<ChallengeServer> {
  const hits: ChallengeServer['hits'] = [];
  const server = http.createServer((req, res) => {
    const answer = answerChallenge(store, req.method ?? 'GET', req.url ?? '/');
    const status = answer?.status ?? 404;
    hits.push({ host: req.headers.host ?? '', path: req.url ?? '', status });
    res.writeHead(status, answer?.headers ?? {}).end(answer?.body ?? '');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** An HTTPS GET to 127.0.0.1 presenting `servername`, verified against `ca` only. */
function httpsGet(port: number, servername: string, ca: string): Promise<{ body: string; serial: string; subjectaltname: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, servername, ca, agent: false, headers: { host: servername } },
      (res) => {
        const cert = (res.socket as TLSSocket).getPeerCertificate();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ body, serial: cert.serialNumber, subjectaltname: cert.subjectaltname ?? '' }));
      },
    );
    req.on('error', reject);
  });
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** Timers that run only the immediate (delay 0) callbacks and record every requested delay. */
function recordingTimers(): RenewalTimers & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    setTimeout(fn, ms) {
      delays.push(ms);
      return ms === 0 ? setImmediate(fn) : undefined;
    },
    clearTimeout(handle) {
      if (handle) clearImmediate(handle as NodeJS.Immediate);
    },
  };
}

describe('ACME HTTP-01 against pebble', { timeout: 120_000 }, () => {
  const served = new ChallengeStore();
  let challengeServer: ChallengeServer;
  let pebble: Pebble;
  let root: string;
  let tmp: string;
  let base: Omit<ObtainCertificateOptions, 'domain'>;

  before(async () => {
    challengeServer = await startChallengeServer(served);
    pebble = await startPebble({ httpPort: challengeServer.port, domainBlocklist: ['blocked.portway.test'] });
    root = await pebble.rootCertPem();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portway-acme-'));
    base = {
      directoryUrl: pebble.directoryUrl,
      caBundle: pebble.caBundlePem,
      accountKeyPath: path.join(tmp, 'acme-account.key'),
      challenges: served,
      email: 'ops@portway.test',
    };
  });

  after(async () => {
    await pebble?.stop();
    await challengeServer?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('issues a certificate that a client verifies against pebble\'s root, then renews it', async (t) => {
    const started = Date.now();
    const issued = await obtainCertificate({ ...base, domain: DOMAIN });
    t.diagnostic(`first issuance (account + order + HTTP-01 + finalize) took ${Date.now() - started} ms`);

    // The CA really fetched the token, by name, through our DNS server, and the token is gone now.
    const fetched = challengeServer.hits.filter((h) => h.path.startsWith('/.well-known/acme-challenge/'));
    assert.ok(fetched.length >= 1, 'pebble never fetched the challenge');
    assert.ok(fetched.every((h) => h.status === 200 && h.host.startsWith(`${DOMAIN}:`)), JSON.stringify(fetched));
    assert.ok(pebble.dnsQueries.includes(DOMAIN), `DNS server saw ${JSON.stringify(pebble.dnsQueries)}`);
    assert.equal(served.size, 0, 'challenge tokens must be removed after validation');
    assert.equal(mode(base.accountKeyPath), 0o600);
    const accountKey = fs.readFileSync(base.accountKeyPath, 'utf8');

    // Stored beside the config, secrets 0600.
    const store = new CertificateStore(path.join(tmp, 'certs'));
    const stored = store.save(DOMAIN, issued);
    const { certPath, keyPath, dir } = store.paths(DOMAIN);
    assert.equal(mode(certPath), 0o600);
    assert.equal(mode(keyPath), 0o600);
    assert.equal(mode(dir), 0o700);
    assert.deepEqual(stored.dnsNames, [DOMAIN]);
    assert.equal(store.load(DOMAIN)?.serialNumber, issued.serialNumber);
    assert.equal(store.needsRenewal(DOMAIN, new Date()), false);

    // Terminate TLS with it; a client trusting only pebble's root verifies the chain and name.
    const server = https.createServer({ cert: issued.certPem, key: issued.keyPem }, (_req, res) => res.end('hello over acme'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const first = await httpsGet(port, DOMAIN, root);
    assert.equal(first.body, 'hello over acme');
    assert.equal(first.subjectaltname, `DNS:${DOMAIN}`);
    assert.equal(first.serial, issued.serialNumber);
    // Verification is real: another name, or a different trust root, is refused.
    await assert.rejects(httpsGet(port, 'other.portway.test', root), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    await assert.rejects(httpsGet(port, DOMAIN, pebble.caBundlePem), /unable to verify|local issuer/i);

    // Renewal: not due today; the next wake-up is the renewal time.
    let now = new Date();
    const timers = recordingTimers();
    const scheduler = new RenewalScheduler({
      store,
      domains: () => [DOMAIN],
      issue: (domain) => obtainCertificate({ ...base, domain }),
      now: () => now,
      timers,
      checkIntervalMs: 365 * DAY_MS,
    });
    t.after(() => scheduler.stop());
    const failures: FailedEvent[] = [];
    scheduler.on('failed', (e) => failures.push(e));
    scheduler.start();
    assert.deepEqual(await scheduler.checkNow(), []);
    const expectedWake = renewalTime(stored).getTime() - now.getTime();
    assert.ok(Math.abs(timers.delays[timers.delays.length - 1] - expectedWake) < 1000, `scheduled ${timers.delays.at(-1)} ms, expected ~${expectedWake} ms`);

    // Move the clock into the window (10 days before expiry): the next check renews.
    now = new Date(issued.notAfter.getTime() - 10 * DAY_MS);
    assert.equal(store.needsRenewal(DOMAIN, now), true);
    // Either event settles the wait, so a failed renewal shows its error instead of a timeout.
    const renewedEvent = Promise.race([
      once(scheduler, 'renewed') as Promise<[RenewedEvent]>,
      (once(scheduler, 'failed') as Promise<[FailedEvent]>).then(([e]) => Promise.reject(e.error)),
    ]);
    const renewStarted = Date.now();
    scheduler.stop();
    scheduler.start(); // wakes immediately, as it would after the laptop slept
    const [renewed] = await renewedEvent;
    t.diagnostic(`renewal (existing account) took ${Date.now() - renewStarted} ms`);
    assert.deepEqual(failures, []);
    assert.equal(renewed.domain, DOMAIN);
    assert.equal(renewed.previous?.serialNumber, issued.serialNumber);
    assert.notEqual(renewed.certificate.serialNumber, issued.serialNumber);
    assert.notEqual(renewed.certificate.keyPem, issued.keyPem, 'a renewed certificate must get a new key');
    assert.equal(store.load(DOMAIN)?.serialNumber, renewed.certificate.serialNumber);
    assert.equal(fs.readFileSync(base.accountKeyPath, 'utf8'), accountKey, 'the account key is reused');

    // What the core does on 'renewed': swap the SecureContext; new handshakes see the new cert.
    server.setSecureContext({ cert: renewed.certificate.certPem, key: renewed.certificate.keyPem });
    const second = await httpsGet(port, DOMAIN, root);
    assert.equal(second.serial, renewed.certificate.serialNumber);
    assert.equal(second.subjectaltname, `DNS:${DOMAIN}`);
  });

  it('reports a failed HTTP-01 challenge with the CA\'s problem detail', async (t) => {
    // The CA fetches the token from the server, whose store never learns it: a 404.
    const unanswered = new ChallengeStore();
    const domain = 'fail.portway.test';
    const err = await obtainCertificate({ ...base, domain, challenges: unanswered }).then(
      () => assert.fail('issuance must fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AcmeChallengeFailedError, String(err));
    t.diagnostic(err.message);
    assert.equal(err.domain, domain);
    assert.match(err.problem.type, /^urn:ietf:params:acme:error:/);
    assert.match(err.message, /HTTP-01 challenge for fail\.portway\.test failed: .*404/);
    assert.equal(unanswered.size, 0, 'the token is removed even when validation fails');
    assert.ok(challengeServer.hits.some((h) => h.host.startsWith(`${domain}:`) && h.status === 404));
  });

  it('reports a refused identifier with its ACME problem type', async (t) => {
    const err = await obtainCertificate({ ...base, domain: 'blocked.portway.test' }).then(
      () => assert.fail('issuance must fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AcmeProblemError, String(err));
    t.diagnostic(err.message);
    assert.equal(err.problem.type, 'urn:ietf:params:acme:error:rejectedIdentifier');
    assert.match(err.message, /rejectedIdentifier/);
  });

  it('refuses a directory whose HTTPS certificate it cannot verify', async (t) => {
    const err = await obtainCertificate({ ...base, caBundle: undefined, domain: DOMAIN }).then(
      () => assert.fail('must not trust pebble without its CA'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AcmeDirectoryUnreachableError, String(err));
    t.diagnostic(err.message);
    assert.match(err.message, /not trusted/);
  });
});

/** A closed loopback port: bound, then released. */
async function closedPort(): Promise<number> {
  const server = http.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Just enough of an ACME server to answer newAccount with a rate limit (pebble has none): the
 * only way to see what a Let's Encrypt 429 turns into without sending traffic off loopback.
 */
async function startRateLimitedDirectory(retryAfterSeconds: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.setHeader('replay-nonce', `nonce${Math.random().toString(36).slice(2)}`);
    if (req.url === '/dir') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ newNonce: `${origin}/nonce`, newAccount: `${origin}/acct`, newOrder: `${origin}/order` }));
    } else if (req.url === '/nonce') {
      res.writeHead(200).end();
    } else {
      req.resume();
      res.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': String(retryAfterSeconds) });
      res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many new registrations from this IP', status: 429 }));
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('ACME failures that need no CA', { timeout: 30_000 }, () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portway-acme-err-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('fails fast and clearly when the directory is unreachable', async (t) => {
    const directoryUrl = `https://127.0.0.1:${await closedPort()}/dir`;
    const started = Date.now();
    const err = await obtainCertificate({
      directoryUrl,
      domain: DOMAIN,
      accountKeyPath: path.join(tmp, 'unreachable.key'),
      challenges: new ChallengeStore(),
    }).then(() => assert.fail('must fail'), (e: unknown) => e);
    assert.ok(err instanceof AcmeDirectoryUnreachableError, String(err));
    t.diagnostic(err.message);
    assert.match(err.message, new RegExp(`ACME directory ${directoryUrl.replace(/[.?]/g, '\\$&')} is unreachable: .*ECONNREFUSED`));
    assert.ok(Date.now() - started < 5_000, 'no retry loop before reporting an unreachable directory');
    assert.equal(fs.existsSync(path.join(tmp, 'unreachable.key')), false, 'nothing is created for an unreachable CA');
  });

  it('reports a rate limit with its Retry-After instead of sleeping through it, and the scheduler backs off until then', async (t) => {
    const stub = await startRateLimitedDirectory(3600);
    try {
      const options = { directoryUrl: stub.url, domain: DOMAIN, accountKeyPath: path.join(tmp, 'limited.key'), challenges: new ChallengeStore() };
      const started = Date.now();
      const err = await obtainCertificate(options).then(() => assert.fail('must fail'), (e: unknown) => e);
      assert.ok(err instanceof AcmeRateLimitedError, String(err));
      t.diagnostic(err.message);
      assert.ok(Date.now() - started < 5_000, 'acme-client must not wait out the Retry-After');
      assert.equal(err.problem.type, 'urn:ietf:params:acme:error:rateLimited');
      assert.match(err.message, /^ACME rate limit reached: too many new registrations from this IP \[rateLimited, HTTP 429\]; retry after /);
      const expected = started + 3600_000;
      assert.ok(err.retryAfter && Math.abs(err.retryAfter.getTime() - expected) < 10_000, String(err.retryAfter));

      const now = new Date();
      const scheduler = new RenewalScheduler({
        store: new CertificateStore(path.join(tmp, 'certs')),
        domains: () => [DOMAIN],
        issue: (domain) => obtainCertificate({ ...options, domain }),
        now: () => now,
        timers: recordingTimers(),
        minRetryDelayMs: 60_000,
      });
      const failed = once(scheduler, 'failed') as Promise<[FailedEvent]>;
      void scheduler.checkNow();
      const [event] = await failed;
      assert.ok(event.error instanceof AcmeRateLimitedError);
      assert.ok(event.retryAt.getTime() >= now.getTime() + 3600_000 - 10_000, 'backoff honours Retry-After over the 1-minute minimum');
      // Inside the backoff nothing is attempted, so nothing fails again.
      let again = 0;
      scheduler.on('failed', () => again++);
      assert.deepEqual(await scheduler.checkNow(), []);
      assert.equal(again, 0);
      scheduler.stop();
    } finally {
      await stub.close();
    }
  });
});
