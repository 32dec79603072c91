import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTokenCommand, TokenCommandError } from '../../relay/src/security/token-command';
import { TokenStore, TokenStoreError } from '../../relay/src/security/token-store';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

async function harness() {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'portway-token-cmd-'));
  dirs.push(dataDir);
  const run = async (...argv: string[]) => {
    const io = { out: '', err: '' };
    await runTokenCommand([...argv, '--data-dir', dataDir], {
      out: (text) => (io.out += text),
      err: (text) => (io.err += text),
      env: {},
    });
    return io;
  };
  return { dataDir, run };
}

describe('portway-relay token', () => {
  it('create prints only the token to stdout, and it verifies', async () => {
    const { dataDir, run } = await harness();
    const { out, err } = await run('create', '--name', 'alice', '--max-tunnels', '3', '--max-tcp-ports=0', '--max-identities', '5');
    assert.match(out, /^pw_[A-Za-z0-9_-]{43}\n$/);
    assert.match(err, /created token "alice" \(tok_[0-9a-f]{12}\); it is shown only this once/);
    const store = await TokenStore.open(dataDir, { watch: false });
    const record = store.verify(out.trim());
    assert.equal(record?.name, 'alice');
    assert.equal(record?.maxTunnels, 3);
    assert.equal(record?.maxTcpPorts, 0);
    assert.equal(record?.maxIdentities, 5);
  });

  it('ls shows names and limits, never tokens or hashes', async () => {
    const { run } = await harness();
    assert.equal((await run('ls')).out, 'no tokens\n');
    const { out: token } = await run('create', '--name', 'alice', '--max-tunnels', '2');
    await run('create', '--name', 'bob');
    const { out } = await run('ls');
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0], /^NAME\s+ID\s+MAX TUNNELS\s+MAX TCP PORTS\s+MAX IDENTITIES\s+IDENTITIES\s+ONLINE\s+BYTES 1H\s+REFUSALS 1H\s+CREATED$/);
    // Without --admin, the live columns are unknown ("-"); identities come from the data dir.
    assert.match(lines[1], /^alice\s+tok_[0-9a-f]{12}\s+2\s+default\s+default\s+0\s+-\s+-\s+-\s+\d{4}-/);
    assert.match(lines[2], /^bob\s+tok_[0-9a-f]{12}\s+default\s+default\s+default\s+0\s+-\s+-\s+-\s+\d{4}-/);
    assert.ok(!out.includes(token.trim()));
    const json = JSON.parse((await run('ls', '--json')).out);
    assert.deepEqual(
      json.map((r: { name: string }) => r.name),
      ['alice', 'bob'],
    );
    assert.ok(json.every((r: object) => !('sha256' in r)));
  });

  it('revoke by name or id', async () => {
    const { dataDir, run } = await harness();
    const { out: token } = await run('create', '--name', 'alice');
    await run('create', '--name', 'bob');
    const { err } = await run('revoke', 'alice');
    assert.match(err, /revoked token "alice"/);
    const store = await TokenStore.open(dataDir, { watch: false });
    assert.equal(store.verify(token.trim()), undefined);
    await run('revoke', store.list()[0].id);
    assert.equal((await run('ls')).out, 'no tokens\n');
    await assert.rejects(run('revoke', 'alice'), (e: unknown) => e instanceof TokenStoreError && e.code === 'not-found');
  });

  it('reports usage mistakes as TokenCommandError', async () => {
    const { run } = await harness();
    const mistakes: [string[], RegExp][] = [
      [['frobnicate'], /unknown token command/],
      [['create'], /needs --name/],
      [['create', '--name'], /--name needs a value/],
      [['create', '--name', 'a', '--name', 'b'], /given twice/],
      [['create', '--name', 'a', '--max-tunnels', '-1'], /whole number/],
      [['create', '--name', 'a', '--max-tunnels', 'lots'], /whole number/],
      [['create', '--name', 'a', 'extra'], /unexpected argument/],
      [['create', '--nme', 'a'], /unknown option --nme/],
      [['ls', '--all'], /unknown option --all/],
      [['revoke'], /exactly one/],
      [['revoke', 'a', 'b'], /exactly one/],
    ];
    for (const [argv, pattern] of mistakes) {
      await assert.rejects(run(...argv), (e: unknown) => e instanceof TokenCommandError && pattern.test(e.message), argv.join(' '));
    }
  });

  it('prints help', async () => {
    let out = '';
    await runTokenCommand([], { out: (t) => (out += t), err: () => {}, env: {} });
    assert.match(out, /^Usage: portway-relay token/);
  });

  it('uses DATA_DIR when no flag is given', async () => {
    const { dataDir } = await harness();
    let out = '';
    await runTokenCommand(['create', '--name', 'env'], { out: (t) => (out += t), err: () => {}, env: { DATA_DIR: dataDir } });
    const store = await TokenStore.open(dataDir, { watch: false });
    assert.equal(store.verify(out.trim())?.name, 'env');
  });
});
