import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CorruptFileError, TOKENS_FILE, TokenChange, TokenStore, TokenStoreError } from '../../relay/src/security/token-store';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'portway-tokens-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

function nextChange(store: TokenStore): Promise<TokenChange> {
  return new Promise((resolve) => {
    const off = store.onChange((change) => {
      off();
      resolve(change);
    });
  });
}

function nextError(store: TokenStore): Promise<Error> {
  return new Promise((resolve) => {
    const off = store.onError((error) => {
      off();
      resolve(error);
    });
  });
}

const isCode = (code: string) => (err: unknown) => err instanceof TokenStoreError && err.code === code;

describe('TokenStore', () => {
  it('creates tokens that verify, and nothing else does', async () => {
    const store = await TokenStore.open(await tempDir(), { watch: false });
    const { token, record } = await store.create({ name: 'alice', maxTunnels: 3, maxTcpPorts: 0 });
    assert.match(token, /^pw_[A-Za-z0-9_-]{43}$/);
    assert.match(record.id, /^tok_[0-9a-f]{12}$/);
    assert.equal(record.name, 'alice');
    assert.equal(record.maxTunnels, 3);
    assert.equal(record.maxTcpPorts, 0);
    assert.ok(!Number.isNaN(Date.parse(record.createdAt)));
    assert.deepEqual(store.verify(token), record);

    const other = await store.create({ name: 'bob' });
    assert.notEqual(other.token, token);
    assert.equal(store.verify(other.token)?.name, 'bob');
    assert.equal(store.verify(token)?.name, 'alice');

    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const wrong of [flipped, token + ' ', token.slice(0, -1), '', 'pw_', 'x'.repeat(100_000), undefined, null, 42, { token }]) {
      assert.equal(store.verify(wrong), undefined, `should refuse ${String(wrong).slice(0, 20)}`);
    }
  });

  it('stores only hashes, mode 0600, with no temp files left behind', async () => {
    const dir = await tempDir();
    const store = await TokenStore.open(dir, { watch: false });
    const { token } = await store.create({ name: 'alice' });
    await store.create({ name: 'bob' });
    const text = await fs.readFile(path.join(dir, TOKENS_FILE), 'utf8');
    assert.ok(!text.includes(token), 'token in plain text');
    assert.ok(!text.includes(token.slice(3)), 'token body in plain text');
    assert.match(text, /"sha256": "[0-9a-f]{64}"/);
    assert.equal((await fs.stat(path.join(dir, TOKENS_FILE))).mode & 0o777, 0o600);
    assert.deepEqual(await fs.readdir(dir), [TOKENS_FILE]);
  });

  it('lists records without secrets', async () => {
    const store = await TokenStore.open(await tempDir(), { watch: false });
    await store.create({ name: 'alice', maxTunnels: 2 });
    await store.create({ name: 'bob' });
    const list = store.list();
    assert.deepEqual(
      list.map((r) => r.name),
      ['alice', 'bob'],
    );
    for (const record of list) {
      assert.deepEqual(Object.keys(record).sort(), record.name === 'alice' ? ['createdAt', 'id', 'maxTunnels', 'name'] : ['createdAt', 'id', 'name']);
    }
    // A copy: editing it changes nothing.
    list[0].maxTunnels = 99;
    assert.equal(store.list()[0].maxTunnels, 2);
  });

  it('refuses bad names, duplicate names and bad limits', async () => {
    const store = await TokenStore.open(await tempDir(), { watch: false });
    await store.create({ name: 'alice' });
    await assert.rejects(store.create({ name: 'alice' }), isCode('duplicate-name'));
    for (const name of ['', ' alice', '-x', 'a/b', 'a b', 'x'.repeat(65), 'tok_0123456789ab', 42 as unknown as string]) {
      await assert.rejects(store.create({ name }), isCode('invalid-name'), JSON.stringify(name));
    }
    for (const value of [-1, 1.5, NaN, Infinity, '3' as unknown as number]) {
      await assert.rejects(store.create({ name: 'carol', maxTunnels: value }), isCode('invalid-limit'));
      await assert.rejects(store.create({ name: 'carol', maxTcpPorts: value }), isCode('invalid-limit'));
    }
    assert.deepEqual(
      store.list().map((r) => r.name),
      ['alice'],
    );
  });

  it('revokes by name or id; unknown names are an error', async () => {
    const store = await TokenStore.open(await tempDir(), { watch: false });
    const alice = await store.create({ name: 'alice' });
    const bob = await store.create({ name: 'bob' });
    assert.deepEqual(await store.revoke('alice'), alice.record);
    assert.equal(store.verify(alice.token), undefined);
    assert.equal(store.verify(bob.token)?.name, 'bob');
    assert.deepEqual(await store.revoke(bob.record.id), bob.record);
    assert.equal(store.verify(bob.token), undefined);
    await assert.rejects(store.revoke('alice'), isCode('not-found'));
    assert.deepEqual(store.list(), []);
  });

  it('persists across reopen', async () => {
    const dir = await tempDir();
    const first = await TokenStore.open(dir, { watch: false });
    const { token, record } = await first.create({ name: 'alice', maxTcpPorts: 4 });
    const second = await TokenStore.open(dir, { watch: false });
    assert.deepEqual(second.verify(token), record);
    assert.deepEqual(second.list(), [record]);
  });

  it('a mutation re-reads the file first, so two processes do not undo each other', async () => {
    const dir = await tempDir();
    const relay = await TokenStore.open(dir, { watch: false });
    const cli = await TokenStore.open(dir, { watch: false });
    await cli.create({ name: 'alice' });
    await relay.create({ name: 'bob' });
    const reopened = await TokenStore.open(dir, { watch: false });
    assert.deepEqual(
      reopened.list().map((r) => r.name),
      ['alice', 'bob'],
    );
  });

  it('reload() picks up changes and reports them once', async () => {
    const dir = await tempDir();
    const relay = await TokenStore.open(dir, { watch: false });
    const cli = await TokenStore.open(dir, { watch: false });
    const alice = await cli.create({ name: 'alice' });
    assert.equal(relay.verify(alice.token), undefined);
    const change = await relay.reload();
    assert.deepEqual(change, { added: [alice.record], removed: [], updated: [] });
    assert.equal(relay.verify(alice.token)?.name, 'alice');
    assert.equal(await relay.reload(), undefined);
  });

  it('a revoke by another process reaches a watching store', { timeout: 10_000 }, async (t) => {
    const dir = await tempDir();
    const relay = await TokenStore.open(dir);
    t.after(() => relay.close());
    const cli = await TokenStore.open(dir, { watch: false });

    const added = nextChange(relay);
    const alice = await cli.create({ name: 'alice' });
    assert.deepEqual(await added, { added: [alice.record], removed: [], updated: [] });
    assert.equal(relay.verify(alice.token)?.name, 'alice');

    const removed = nextChange(relay);
    await cli.revoke('alice');
    assert.deepEqual(await removed, { added: [], removed: [alice.record], updated: [] });
    assert.equal(relay.verify(alice.token), undefined);
  });

  it("reports the store's own mutations to listeners too", async () => {
    const store = await TokenStore.open(await tempDir(), { watch: false });
    const changes: TokenChange[] = [];
    store.onChange((change) => changes.push(change));
    const { record } = await store.create({ name: 'alice' });
    await store.revoke('alice');
    assert.deepEqual(changes, [
      { added: [record], removed: [], updated: [] },
      { added: [], removed: [record], updated: [] },
    ]);
  });

  it('a corrupt file is an error naming it, and is never overwritten', async () => {
    const dir = await tempDir();
    const file = path.join(dir, TOKENS_FILE);
    const corrupt = async (content: string) => {
      await fs.writeFile(file, content);
      await assert.rejects(
        TokenStore.open(dir, { watch: false }),
        (err: unknown) => err instanceof CorruptFileError && err.file === file && err.message.includes(file),
      );
      assert.equal(await fs.readFile(file, 'utf8'), content);
    };
    await corrupt('{"version": 1, "tokens": [');
    await corrupt('[]');
    await corrupt('{"version": 2, "tokens": []}');
    await corrupt('{"version": 1, "tokens": [{"id": "tok_0123456789ab", "name": "a", "createdAt": "x", "sha256": "nothex"}]}');
    const entry = { id: 'tok_0123456789ab', name: 'a', createdAt: 'x', sha256: 'a'.repeat(64) };
    await corrupt(JSON.stringify({ version: 1, tokens: [entry, { ...entry, name: 'b' }] }));
    await corrupt(JSON.stringify({ version: 1, tokens: [{ ...entry, maxTunnels: -1 }] }));
  });

  it('an open store refuses to mutate a file that went corrupt, and keeps its last good state', { timeout: 10_000 }, async (t) => {
    const dir = await tempDir();
    const file = path.join(dir, TOKENS_FILE);
    const store = await TokenStore.open(dir);
    t.after(() => store.close());
    const alice = await store.create({ name: 'alice' });

    const error = nextError(store);
    await fs.writeFile(file, 'not json');
    const reported = await error;
    assert.ok(reported instanceof CorruptFileError && reported.file === file);
    assert.equal(store.verify(alice.token)?.name, 'alice');

    await assert.rejects(store.create({ name: 'bob' }), CorruptFileError);
    await assert.rejects(store.revoke('alice'), CorruptFileError);
    await assert.rejects(store.reload(), CorruptFileError);
    assert.equal(await fs.readFile(file, 'utf8'), 'not json');
  });

  it('a deleted file means no tokens', async () => {
    const dir = await tempDir();
    const store = await TokenStore.open(dir, { watch: false });
    const alice = await store.create({ name: 'alice' });
    await fs.rm(path.join(dir, TOKENS_FILE));
    const change = await store.reload();
    assert.deepEqual(change?.removed, [alice.record]);
    assert.equal(store.verify(alice.token), undefined);
  });

  it('serialises concurrent creates in one process', async () => {
    const dir = await tempDir();
    const store = await TokenStore.open(dir, { watch: false });
    const names = Array.from({ length: 20 }, (_, i) => `user${i}`);
    const created = await Promise.all(names.map((name) => store.create({ name })));
    const reopened = await TokenStore.open(dir, { watch: false });
    assert.equal(reopened.list().length, names.length);
    for (const { token, record } of created) assert.equal(reopened.verify(token)?.id, record.id);
  });
});
