/**
 * `portway-relay --acme` for real: the relay obtains certificates for its own names (the apex at
 * start, an agent's hostname when the agent first comes online) from Debian's pebble, answering
 * HTTP-01 itself on its public HTTP port (pebble's httpPort points there) although that hostname
 * has a plain proxy route online, whose fast path would otherwise take the request to the origin.
 * HTTPS on the relay's HTTPS port is then terminated at the relay and verified against pebble's
 * root. Certificates live a few seconds, so the same relay process renews and swaps them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HEALTH_PATH } from '../../protocol/control';
import { request } from '../helpers/http-client';
import { startPebble, type Pebble } from '../helpers/pebble';
import { configureAgent, portway, RELAY_BIN, startAgent, startRelay, tempDir, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { freePortRange } from '../helpers/tcp';
import { httpsRequest, tryHandshake } from '../helpers/tls-client';

/** Lifetime of pebble's certificates here: the relay renews with a third of it left. */
const VALIDITY_SECONDS = 24;
const APEX = 'relay-acme.test';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function relayCli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RELAY_BIN, ...args], (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr });
    });
  });
}

describe('relay --acme: certificates for its own names (pebble, real relay and agent)', { timeout: 120_000 }, () => {
  let dir: string;
  let relay: RelayProcess;
  let pebble: Pebble;
  let agent: RunningProcess;
  let origin: http.Server;
  let configPath: string;
  let hostname: string;
  let root: string;
  /** Serial of each name's first certificate, from the relay's log. */
  const issued = new Map<string, string>();

  /** Waits for the relay's "issued"/"renewed" line for a name; a failure line fails the test. */
  async function certificateLine(name: string, what: 'issued' | 'renewed', timeoutMs: number, from = 0): Promise<string> {
    const line = await Promise.race([
      relay.waitFor(new RegExp(`ACME: certificate for ${escape(name)} ${what} \\(serial (\\w+)`), timeoutMs, from),
      relay.waitFor(new RegExp(`ACME: could not obtain a certificate for ${escape(name)}`), timeoutMs, from).then((m) => assert.fail(m.input)),
    ]);
    return line[1];
  }

  /**
   * Certificates live VALIDITY_SECONDS, so on a busy machine a name may already be renewed when a
   * check runs: a serial is right when the relay logged it for that name (issued or renewed), not
   * only when it is the first one. Waits for the line, which may trail the swap on stdout.
   */
  async function assertLoggedSerial(name: string, serial: string | undefined): Promise<void> {
    assert.ok(serial, `no serial presented for ${name}`);
    await relay.waitFor(new RegExp(`ACME: certificate for ${escape(name)} (?:issued|renewed) \\(serial ${serial}\\b`), 15_000);
  }

  before(async () => {
    dir = tempDir('portway-relay-acme-');
    origin = http.createServer((req, res) => res.end(`origin saw ${req.url} over ${req.headers['x-forwarded-proto']}`));
    origin.listen(0, '127.0.0.1');
    await once(origin, 'listening');
    const originPort = (origin.address() as AddressInfo).port;
    // Pebble validates HTTP-01 on the relay's HTTP port, and the relay needs pebble's directory
    // at start: the port is picked first.
    const { first: relayPort } = await freePortRange(1);
    pebble = await startPebble({ httpPort: relayPort, certificateValiditySeconds: VALIDITY_SECONDS });
    root = await pebble.rootCertPem();
    const bundle = path.join(dir, 'pebble-listener-ca.pem');
    fs.writeFileSync(bundle, pebble.caBundlePem);
    relay = await startRelay({
      port: relayPort,
      httpsPort: 0,
      extraArgs: ['--domain', APEX, '--acme', '--acme-directory', pebble.directoryUrl, '--acme-ca-bundle', bundle, '--acme-email', 'ops@example.org'],
    });
    issued.set(APEX, await certificateLine(APEX, 'issued', 60_000));

    ({ configPath, hostname } = await configureAgent(relay));
    assert.ok(hostname.endsWith(`.${APEX}`), hostname);
    // A plain proxy route (TLS not at the agent): the relay terminates TLS for it.
    const added = await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(originPort)]);
    assert.equal(added.code, 0, added.stderr);
    agent = startAgent(configPath);
    await agent.waitFor(/Connected to/);
  });

  after(async () => {
    await agent?.stop();
    await relay?.stop();
    await pebble?.stop();
    origin?.closeAllConnections();
    origin?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says which TLS modes exist in --help, and refuses --acme without --https-port', async () => {
    const help = await new Promise<string>((resolve) => execFile(process.execPath, [RELAY_BIN, '--help'], (_e, stdout) => resolve(stdout)));
    assert.match(help, /--acme\b/);
    assert.match(help, /--acme-directory URL/);
    assert.match(help, /--tls-cert\/--tls-key: the given pair/);
    const refused = await relayCli(['--domain', APEX, '--port', '0', '--acme']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--acme needs --https-port/);
    const stray = await relayCli(['--domain', APEX, '--port', '0', '--https-port', '0', '--acme-directory', pebble.directoryUrl]);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /--acme-directory needs --acme/);
  });

  it('serves the apex over HTTPS with its ACME certificate, verified against pebble\'s root', async () => {
    const health = await httpsRequest(relay.httpsPort!, APEX, root, { path: HEALTH_PATH });
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).status, 'ok');
    await assertLoggedSerial(APEX, health.serial);
    // Verification is real: another trust root is refused.
    await assert.rejects(httpsRequest(relay.httpsPort!, APEX, pebble.caBundlePem), /unable to verify|local issuer|self.signed/i);
  });

  it('obtains the hostname\'s certificate when its agent comes online and terminates TLS for its proxy route', async (t) => {
    // HTTP-01 for the hostname was answered by the relay although its proxy route was online.
    const serial = await certificateLine(hostname, 'issued', 60_000);
    issued.set(hostname, serial);
    t.diagnostic(`${hostname}: serial ${serial}`);
    const answer = await httpsRequest(relay.httpsPort!, hostname, root, { path: '/secure' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'origin saw /secure over https');
    await assertLoggedSerial(hostname, answer.serial);
    assert.ok(pebble.dnsQueries.some((name) => name.replace(/\.$/, '') === hostname), 'pebble resolved the hostname to validate it');

    // A name the relay has no certificate for is closed, never answered with another's.
    const other = await tryHandshake(relay.httpsPort!, { servername: `nobody.${APEX}` });
    assert.equal(other.outcome, 'closed');

    // Stored in the data dir, 0600; the account key too.
    for (const name of [APEX, hostname]) {
      const certDir = path.join(relay.dataDir, 'certs', name);
      for (const file of ['key.pem', 'fullchain.pem']) assert.equal(fs.statSync(path.join(certDir, file)).mode & 0o777, 0o600, `${name}/${file}`);
      await assertLoggedSerial(name, new X509Certificate(fs.readFileSync(path.join(certDir, 'fullchain.pem'))).serialNumber);
    }
    assert.equal(fs.statSync(path.join(relay.dataDir, 'acme', 'account.key')).mode & 0o777, 0o600);
  });

  it('lets challenge tokens it does not hold through to the agent, on the plain HTTP port', async () => {
    const res = await request(relay.port, hostname, { path: '/.well-known/acme-challenge/not-a-relay-token' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'origin saw /.well-known/acme-challenge/not-a-relay-token over http');
  });

  it('renews before expiry and serves the new certificates without a restart', async (t) => {
    for (const name of [APEX, hostname]) {
      const renewed = await certificateLine(name, 'renewed', VALIDITY_SECONDS * 1000 + 30_000);
      t.diagnostic(`${name}: renewed, serial ${renewed}`);
      assert.notEqual(renewed, issued.get(name));
      // Every later certificate of this name is a renewal; the one presented is the newest.
      const stored = new X509Certificate(fs.readFileSync(path.join(relay.dataDir, 'certs', name, 'fullchain.pem'))).serialNumber;
      const presented = await httpsRequest(relay.httpsPort!, name, root, { path: name === APEX ? HEALTH_PATH : '/' });
      assert.equal(presented.status, 200);
      assert.notEqual(presented.serial, issued.get(name), 'new handshakes get a renewed certificate');
      assert.ok(presented.serial === stored || presented.serial === renewed, `presented ${presented.serial}, stored ${stored}`);
    }
    assert.equal(relay.child.exitCode, null, 'the same relay process');
  });
});
