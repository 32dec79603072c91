import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { request } from '../helpers/http-client';
import { ROOT, RunningProcess, tempDir } from '../helpers/processes';
import { spawn } from 'node:child_process';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** What every published tarball holds, and what none may: sources, source maps. */
function assertPackageHygiene(packed: string[]): void {
  assert.ok(packed.includes('README.md') && packed.includes('LICENSE'), `README.md and LICENSE: ${packed.join(', ')}`);
  assert.ok(!packed.some((p) => p.startsWith('src/')), 'sources stay out of the package');
  assert.ok(!packed.some((p) => p.endsWith('.map')), `no source map: ${packed.join(', ')}`);
}

describe('packages and command-line entry points', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('the relay packs into a tarball that installs and runs on its own', async () => {
    const packDir = tempDir('portway-pack-');
    const { stdout } = await run(NPM, ['pack', '--json', '--pack-destination', packDir], { cwd: path.join(ROOT, 'relay') });
    const [{ filename, files }] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    const packed = files.map((f) => f.path);
    assert.ok(packed.includes('dist/relay.js') && packed.includes('bin/portway-relay.js'), packed.join(', '));
    assertPackageHygiene(packed);

    // A directory outside the repository, so nothing resolves from the workspace's node_modules.
    const installDir = tempDir('portway-install-');
    fs.writeFileSync(path.join(installDir, 'package.json'), '{"name":"relay-install-check","private":true}');
    await run(NPM, ['install', '--no-audit', '--no-fund', '--omit=optional', path.join(packDir, filename)], { cwd: installDir });
    const bin = path.join(installDir, 'node_modules', '.bin', 'portway-relay');
    assert.ok(fs.existsSync(bin));

    const relay = new RunningProcess(spawn(bin, ['--domain', 'localhost', '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(installDir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] }));
    cleanups.push(() => relay.stop());
    const [, port] = await relay.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const health = await request(Number(port), 'localhost', { path: '/_portway/health' });
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body.toString()).status, 'ok');
  });

  it('the agent packs (its own prepack build) into a tarball that installs globally and runs', async () => {
    const packDir = tempDir('portway-pack-');
    const { stdout } = await run(NPM, ['pack', '--json', '--pack-destination', packDir], { cwd: path.join(ROOT, 'agent') });
    const [{ filename, files }] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    const packed = files.map((f) => f.path);
    assert.ok(packed.includes('dist/portway.js') && packed.includes('bin/portway.js'), packed.join(', '));
    assertPackageHygiene(packed);

    // A global install into a throwaway prefix, run from outside the repository.
    const prefix = tempDir('portway-global-');
    await run(NPM, ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--omit=optional', path.join(packDir, filename)], { cwd: prefix });
    const bin = path.join(prefix, 'bin', 'portway');
    const help = await run(bin, ['--help'], { cwd: prefix });
    assert.match(help.stdout, /Usage: portway/);
    const version = await run(bin, ['--version'], { cwd: prefix });
    assert.equal(version.stdout.trim(), JSON.parse(fs.readFileSync(path.join(ROOT, 'agent', 'package.json'), 'utf8')).version);
  });

  it('portway-relay --version is its package version', async () => {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'relay', 'bin', 'portway-relay.js'), '--version']);
    assert.equal(stdout.trim(), JSON.parse(fs.readFileSync(path.join(ROOT, 'relay', 'package.json'), 'utf8')).version);
  });

  it('npx portway and npx portway-relay run from the repository root', async () => {
    const agent = await run('npx', ['--no-install', 'portway', '--help'], { cwd: ROOT });
    assert.match(agent.stdout, /Usage: portway/);
    const relay = await run('npx', ['--no-install', 'portway-relay', '--help'], { cwd: ROOT });
    assert.match(relay.stdout, /Usage: portway-relay/);
  });

  it('the relay refuses a missing domain and a short auth key with a clear error', async () => {
    const bin = path.join(ROOT, 'relay', 'bin', 'portway-relay.js');
    // The relay's settings come from flags or from these variables: none may leak in from outside.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DOMAIN;
    delete env.AUTH_KEY;
    await assert.rejects(run(process.execPath, [bin, '--port', '0'], { env }), (err: { code: number; stderr: string }) => err.code === 2 && /a domain is required/.test(err.stderr));
    await assert.rejects(run(process.execPath, [bin, '--domain', 'localhost', '--auth-key', 'short'], { env }), (err: { code: number; stderr: string }) => err.code === 2 && /at least 32 characters/.test(err.stderr));
    await assert.rejects(run(process.execPath, [bin, '--domain', 'localhost', '--bogus'], { env }), (err: { code: number; stderr: string }) => err.code === 2 && /unknown option --bogus/.test(err.stderr));
  });
});
