/**
 * Runs Debian's `pebble` (the ACME test CA) on loopback for a test.
 *
 * Debian's package ships only the binary (no test/certs/), so the HTTPS certificate pebble serves
 * its directory with is generated here with `openssl`: a throwaway CA (returned as caBundlePem)
 * and a leaf for 127.0.0.1. Test domains resolve through a tiny DNS server on 127.0.0.1
 * (`-dnsserver`) that answers A 127.0.0.1 for every name, so the HTTP-01 validation lands on
 * the test's challenge server at 127.0.0.1:<httpPort> and nothing leaves loopback.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDnsAServer, type DnsAServer } from './dns-a-server';

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 50;
const INSTALL_HINT = 'install it with `sudo apt-get install pebble` (Debian/Ubuntu package "pebble")';

export interface PebbleOptions {
  /** Port of the test's HTTP-01 challenge server on 127.0.0.1 (pebble's `httpPort`). */
  httpPort: number;
  /** Lifetime of issued certificates; pebble's default is 5 years, Let's Encrypt's is 90 days. */
  certificateValiditySeconds?: number;
  /** Names pebble refuses to issue for (rejectedIdentifier), to exercise error paths. */
  domainBlocklist?: string[];
  /** Extra PEBBLE_* environment, e.g. { PEBBLE_AUTHZREUSE: '0' }. */
  env?: Record<string, string>;
}

export interface Pebble {
  directoryUrl: string;
  /** PEM of the CA that signed pebble's own HTTPS certificate: trust it for directoryUrl. */
  caBundlePem: string;
  /** Names the DNS server was asked for (proves validation resolved through it). */
  dnsQueries: readonly string[];
  /** Pebble's issuing root (regenerated per run), from the management interface. */
  rootCertPem(): Promise<string>;
  /** Everything pebble printed so far (for assertion messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Absolute path of an executable on PATH, or undefined. */
function which(name: string): string | undefined {
  if (name.includes('/')) return fs.existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function requireTool(name: string, hint: string): string {
  const found = which(name);
  if (!found) throw new Error(`${name} is required for the ACME tests but was not found on PATH; ${hint}`);
  return found;
}

function run(cmd: string, args: string[], cwd: string): void {
  const result = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${result.stderr || result.error}`);
}

/** A CA and a 127.0.0.1/localhost leaf it signed, for pebble's listeners. */
function makeListenerCerts(openssl: string, dir: string): { caPem: string; certPath: string; keyPath: string } {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(openssl, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=Portway test: pebble listener CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir);
  run(openssl, ['req', ...ec, '-keyout', 'key.pem', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1'], dir);
  fs.writeFileSync(path.join(dir, 'leaf.ext'), [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
  ].join('\n'));
  run(openssl, ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'cert.pem', '-days', '2', '-extfile', 'leaf.ext'], dir);
  return { caPem: fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'), certPath: path.join(dir, 'cert.pem'), keyPath: path.join(dir, 'key.pem') };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout fetching ${url}`)));
    req.on('error', reject);
  });
}

/** Resolves when the child exits (immediately if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // group already gone
  }
}

/**
 * Polls the directory until it answers 200 or the deadline passes; fails early if pebble exits
 * (a port taken between freePort() and pebble's bind shows up here with pebble's own message).
 */
async function waitUntilReady(child: ChildProcess, directoryUrl: string, ca: string, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = 'no attempt yet';
  let tick: NodeJS.Timeout | undefined;
  const died = exited(child).then(() => {
    throw new Error(`pebble exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready:\n${output()}`);
  });
  died.catch(() => undefined); // observed below via race
  for (;;) {
    try {
      const res = await Promise.race([httpsGet(directoryUrl, ca), died]);
      if (res.status === 200 && res.body.includes('newOrder')) return;
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      if (child.exitCode !== null || child.signalCode !== null) throw err;
      lastError = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`pebble did not serve ${directoryUrl} within ${READY_TIMEOUT_MS} ms (${lastError}):\n${output()}`);
    }
    await Promise.race([new Promise<void>((resolve) => (tick = setTimeout(resolve, POLL_INTERVAL_MS))), died]);
    clearTimeout(tick);
  }
}

interface Launched {
  child: ChildProcess;
  acmePort: number;
  managementPort: number;
  output: () => string;
  /** Registered on process 'exit' so a crashed test run never leaves pebble behind. */
  killOnExit: () => void;
}

/** One attempt at running pebble on two fresh ports; kills it again if it never gets ready. */
async function launch(
  pebbleBin: string,
  dir: string,
  certs: { certPath: string; keyPath: string; caPem: string },
  dnsAddress: string,
  options: PebbleOptions,
): Promise<Launched> {
  const [acmePort, managementPort] = [await freePort(), await freePort()];
  const configPath = path.join(dir, 'pebble-config.json');
  fs.writeFileSync(configPath, JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: certs.certPath,
      privateKey: certs.keyPath,
      httpPort: options.httpPort,
      // Only HTTP-01 is ever completed, so pebble never dials this; it still needs a value.
      tlsPort: options.httpPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
      domainBlocklist: options.domainBlocklist ?? [],
      certificateValidityPeriod: options.certificateValiditySeconds ?? 90 * 24 * 3600,
    },
  }, null, 2));

  let output = '';
  const child = spawn(pebbleBin, ['-config', configPath, '-dnsserver', dnsAddress, '-strict=false'], {
    cwd: dir,
    detached: true, // own process group, so stop() can kill everything it spawned
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
      ...options.env,
    },
  });
  const killOnExit = (): void => killGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);
  child.on('error', (err) => (output += `spawn error: ${err.message}\n`));
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  try {
    await waitUntilReady(child, `https://127.0.0.1:${acmePort}/dir`, certs.caPem, () => output);
  } catch (err) {
    killGroup(child, 'SIGKILL');
    await exited(child);
    process.removeListener('exit', killOnExit);
    throw err;
  }
  return { child, acmePort, managementPort, output: () => output, killOnExit };
}

/** Attempts when a port picked by freePort() was taken before pebble could bind it. */
const LAUNCH_ATTEMPTS = 3;

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const pebbleBin = requireTool(process.env.PEBBLE_BIN ?? 'pebble', INSTALL_HINT);
  const openssl = requireTool('openssl', 'install it with `sudo apt-get install openssl`');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portway-pebble-'));
  let dns: DnsAServer | undefined;
  try {
    const certs = makeListenerCerts(openssl, dir);
    dns = await startDnsAServer();
    let launched: Launched | undefined;
    for (let attempt = 1; !launched; attempt++) {
      try {
        launched = await launch(pebbleBin, dir, certs, dns.address, options);
      } catch (err) {
        if (attempt >= LAUNCH_ATTEMPTS || !/address already in use/.test((err as Error).message)) throw err;
      }
    }
    const { child, acmePort, managementPort, output, killOnExit } = launched;
    const dnsServer = dns;
    let stopping: Promise<void> | undefined;
    return {
      directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
      caBundlePem: certs.caPem,
      dnsQueries: dnsServer.queried,
      output,
      async rootCertPem() {
        const res = await httpsGet(`https://127.0.0.1:${managementPort}/roots/0`, certs.caPem);
        if (res.status !== 200 || !res.body.includes('BEGIN CERTIFICATE')) {
          throw new Error(`pebble management /roots/0 answered HTTP ${res.status}: ${res.body.slice(0, 200)}`);
        }
        return res.body;
      },
      stop() {
        stopping ??= (async () => {
          killGroup(child, 'SIGTERM');
          const forced = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS);
          await exited(child);
          clearTimeout(forced);
          process.removeListener('exit', killOnExit);
          await dnsServer.close();
          fs.rmSync(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (err) {
    await dns?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
