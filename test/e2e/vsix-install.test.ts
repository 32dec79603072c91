/**
 * Issue 5's definition of done, literally: a new user installs the packaged .vsix into
 * code-server, runs Share Port, and gets a working public URL.
 *
 * The .vsix is built with the repository's vsce from a staging copy of the already-built bundles
 * (dist/ is shared with tests running in parallel, so it is only read), installed with
 * code-server's own --install-extension, and loaded as an ordinary installed extension (no
 * extensionDevelopmentPath). A real relay and a local origin run on loopback; the public URL is
 * fetched through the relay. Screenshots go to test-artifacts/vsix-install-*.png.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { request } from '../helpers/http-client';
import { startRelay, type RelayProcess } from '../helpers/processes';
import { ARTIFACTS, installExtension, openWorkbench, processesInGroup, ROOT, scratchDir, startCodeServer, type CodeServer, type Workbench } from '../extension/harness/code-server';
import { sharePortAsNewUser, statusItem, until } from '../extension/harness/workbench-ui';

const AUTH_KEY = 'portway-vsix-key-'.padEnd(40, 'x');
const ORIGIN_TEXT = 'hello from the vsix origin';
const EXTENSION_ID = 'portway.portway';
/** What the package may hold, per .vscodeignore (copied as they are; dist/ is only read). */
const PACKAGE_INPUTS = ['package.json', 'README.md', 'LICENSE', '.vscodeignore', 'media', 'dist/extension.js', 'dist/portway.js'];

let scratch: string;
let relay: RelayProcess | undefined;
let origin: http.Server | undefined;
let originPort: number;
let codeServer: CodeServer | undefined;
let workbench: Workbench | undefined;

before(async () => {
  scratch = scratchDir('portway-vsix-');
  origin = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<h1>${ORIGIN_TEXT}</h1>`);
  });
  await new Promise<void>((resolve) => origin!.listen(0, '127.0.0.1', resolve));
  originPort = (origin.address() as AddressInfo).port;
  relay = await startRelay({ authKey: AUTH_KEY });
});

after(async () => {
  if (workbench) {
    if (process.exitCode) await workbench.screenshot('failure').catch(() => undefined);
    await workbench.close();
  }
  await codeServer?.stop();
  await relay?.stop();
  origin?.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** Packages the extension as `npm run package` does, but from a staging copy: returns the .vsix. */
async function packageVsix(): Promise<string> {
  const stage = path.join(scratch, 'stage');
  for (const input of PACKAGE_INPUTS) {
    const from = path.join(ROOT, input);
    assert.ok(fs.existsSync(from), `${input} exists (build with node esbuild.js)`);
    fs.cpSync(from, path.join(stage, input), { recursive: true });
  }
  const vsix = path.join(scratch, 'portway.vsix');
  const vsce = path.join(ROOT, 'node_modules', '.bin', 'vsce');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '--out', vsix],
      { cwd: stage, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`vsce package failed: ${err.message}\n${stdout}${stderr}`)) : resolve()),
    );
  });
  return vsix;
}

test('a new user installs the .vsix into code-server, runs Share Port and gets a working public URL', { timeout: 120_000 }, async () => {
  const started = Date.now();

  // 1. Package.
  const vsix = await packageVsix();
  assert.ok(fs.existsSync(vsix), 'vsce wrote the .vsix');
  const header = Buffer.alloc(4);
  const fd = fs.openSync(vsix, 'r');
  fs.readSync(fd, header, 0, 4, 0);
  fs.closeSync(fd);
  assert.equal(header.toString('latin1'), 'PK\x03\x04', 'the .vsix is a zip archive');

  // 2. Install it the way a user would, into an extensions dir of its own.
  const extensionsDir = path.join(scratch, 'extensions');
  await installExtension(vsix, extensionsDir);
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
  const installed = path.join(extensionsDir, `${EXTENSION_ID}-${version}`);
  for (const file of ['package.json', 'dist/extension.js', 'dist/portway.js', 'media/portway.svg']) {
    assert.ok(fs.existsSync(path.join(installed, file)), `${file} is installed`);
  }
  assert.ok(!fs.existsSync(path.join(installed, 'relay')), 'the relay is not part of the extension');
  assert.ok(!fs.existsSync(path.join(installed, 'node_modules')), 'no dependencies are shipped (the bundles are self-contained)');

  // 3. Start code-server with that extensions dir and no development extension.
  codeServer = await startCodeServer({ extensionsDir });
  workbench = await openWorkbench(codeServer, { artifactPrefix: 'vsix-install' });
  const { page } = workbench;

  // The installed extension activates on start-up: its status-bar item appears and the agent
  // it runs is the installed copy's bundle, not the checkout's.
  await statusItem(page, 'Portway').waitFor({ timeout: 60_000 });
  await until('the installed agent process', () => processesInGroup(codeServer!.pgid, path.join(installed, 'dist', 'portway.js'))[0]);
  assert.deepEqual(processesInGroup(codeServer.pgid, path.join(ROOT, 'dist', 'portway.js')), [], 'nothing runs from the checkout');
  await workbench.screenshot('installed');

  // 4. Share Port as a new user: relay URL and token prompts, then the origin's port.
  const { hostname } = await sharePortAsNewUser(page, {
    relayUrl: relay!.url,
    token: AUTH_KEY,
    port: originPort,
    screenshot: (name) => workbench!.screenshot(name),
  });
  assert.match(hostname, /\.localhost$/);
  await workbench.screenshot('shared');

  // 5. The public URL works: through the relay, by Host header, to the origin's page.
  const res = await request(relay!.port, hostname);
  assert.equal(res.status, 200, `the relay answered ${res.status}: ${res.body.toString().slice(0, 200)}`);
  assert.match(res.body.toString(), new RegExp(ORIGIN_TEXT));

  fs.writeFileSync(path.join(ARTIFACTS, 'vsix-install-timing.txt'), `scenario took ${Date.now() - started} ms\n`);
});
