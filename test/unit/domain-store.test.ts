import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CorruptFileError, DOMAINS_FILE, DomainStore, DomainStoreError } from '../../relay/src/domains/domain-store';
import { DomainNameError } from '../../relay/src/domains/domain-name';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'portway-domains-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

const fixedNow = () => new Date('2026-01-02T03:04:05.000Z');
const isCode = (code: string) => (err: unknown) => err instanceof DomainStoreError && err.code === code;

describe('DomainStore', () => {
  it('binds a domain; the identity owns it and its subdomains, nobody else does', async () => {
    const store = await DomainStore.open(await tempDir(), { now: fixedNow });
    const binding = await store.bind('alice', 'Example.COM.');
    assert.deepEqual(binding, { domain: 'example.com', identity: 'alice', verifiedAt: '2026-01-02T03:04:05.000Z' });
    const table: [string, string, boolean][] = [
      ['alice', 'example.com', true],
      ['alice', 'EXAMPLE.com.', true],
      ['alice', 'www.example.com', true],
      ['alice', 'a.b.example.com', true],
      ['alice', 'example.org', false],
      ['alice', 'notexample.com', false],
      ['alice', 'example.com.evil.net', false],
      ['alice', 'com', false],
      ['alice', '', false],
      ['bob', 'example.com', false],
      ['bob', 'www.example.com', false],
    ];
    for (const [identity, host, expected] of table) assert.equal(store.owns(identity, host), expected, `${identity} owns ${host}`);
    assert.equal(store.ownerOf('api.example.com'), 'alice');
    assert.equal(store.ownerOf('example.net'), undefined);
  });

  it('refuses a domain, or a subdomain of one, bound to another identity', async () => {
    const store = await DomainStore.open(await tempDir());
    await store.bind('alice', 'example.com');
    await assert.rejects(store.bind('bob', 'example.com'), isCode('taken'));
    await assert.rejects(store.bind('bob', 'EXAMPLE.COM.'), isCode('taken'));
    await assert.rejects(store.bind('bob', 'shop.example.com'), (err: unknown) => isCode('taken')(err) && /inside example\.com/.test((err as Error).message));
    assert.throws(() => store.checkBindable('bob', 'a.example.com'), isCode('taken'));
    assert.doesNotThrow(() => store.checkBindable('alice', 'a.example.com'));
    assert.deepEqual(
      store.list().map((b) => [b.domain, b.identity]),
      [['example.com', 'alice']],
    );
  });

  it('is idempotent for the owner and keeps the first verification time', async () => {
    let now = new Date('2026-01-01T00:00:00.000Z');
    const store = await DomainStore.open(await tempDir(), { now: () => now });
    const first = await store.bind('alice', 'example.com');
    now = new Date('2026-06-01T00:00:00.000Z');
    assert.deepEqual(await store.bind('alice', 'example.com'), first);
    assert.equal(store.list().length, 1);
  });

  it('a subdomain bound first stays with its owner when someone binds the parent', async () => {
    const store = await DomainStore.open(await tempDir());
    await store.bind('bob', 'app.example.com');
    await store.bind('alice', 'example.com');
    assert.equal(store.ownerOf('app.example.com'), 'bob');
    assert.equal(store.ownerOf('v2.app.example.com'), 'bob');
    assert.equal(store.ownerOf('www.example.com'), 'alice');
    assert.equal(store.owns('alice', 'app.example.com'), false);
    assert.deepEqual(store.bindingFor('x.app.example.com')?.domain, 'app.example.com');
  });

  it("never lets a custom domain reach into the relay's own names", async () => {
    const store = await DomainStore.open(await tempDir(), { reserved: ['Tunnel.Example.com.'] });
    await assert.rejects(store.bind('alice', 'tunnel.example.com'), isCode('reserved'));
    await assert.rejects(store.bind('alice', 'small-fire-1.tunnel.example.com'), isCode('reserved'));
    await store.bind('alice', 'example.com');
    assert.equal(store.owns('alice', 'www.example.com'), true);
    assert.equal(store.owns('alice', 'tunnel.example.com'), false);
    assert.equal(store.owns('alice', 'small-fire-1.tunnel.example.com'), false);
    assert.equal(store.owns('alice', 'small-fire-1.TUNNEL.example.com.'), false);
    // A name that merely ends the same way is not inside it.
    assert.equal(store.owns('alice', 'mytunnel.example.com'), true);
  });

  it('unbinds for the owner only', async () => {
    const store = await DomainStore.open(await tempDir());
    await store.bind('alice', 'example.com');
    await assert.rejects(store.unbind('bob', 'example.com'), isCode('not-owner'));
    await assert.rejects(store.unbind('alice', 'example.org'), isCode('not-found'));
    assert.equal((await store.unbind('alice', 'Example.com')).domain, 'example.com');
    assert.equal(store.ownerOf('example.com'), undefined);
    await store.bind('bob', 'example.com');
    assert.equal(store.ownerOf('example.com'), 'bob');
  });

  it('lists all or one identity, sorted', async () => {
    const store = await DomainStore.open(await tempDir(), { now: fixedNow });
    await store.bind('bob', 'zeta.example');
    await store.bind('alice', 'beta.example');
    await store.bind('alice', 'alpha.example');
    assert.deepEqual(
      store.list().map((b) => b.domain),
      ['alpha.example', 'beta.example', 'zeta.example'],
    );
    assert.deepEqual(
      store.list('alice').map((b) => b.domain),
      ['alpha.example', 'beta.example'],
    );
    assert.deepEqual(store.list('carol'), []);
  });

  it('refuses bad names and identities', async () => {
    const store = await DomainStore.open(await tempDir());
    for (const domain of ['localhost', 'exa mple.com', '1.2.3.4', '*.example.com', '']) {
      await assert.rejects(store.bind('alice', domain), DomainNameError, domain);
    }
    await assert.rejects(store.bind('', 'example.com'), TypeError);
  });

  it('persists atomically (mode 0600, no temp files) and reloads', async () => {
    const dir = await tempDir();
    const store = await DomainStore.open(dir, { now: fixedNow });
    await store.bind('alice', 'example.com');
    await store.bind('bob', 'example.org');
    await store.unbind('bob', 'example.org');
    assert.deepEqual(await fs.readdir(dir), [DOMAINS_FILE]);
    assert.equal((await fs.stat(path.join(dir, DOMAINS_FILE))).mode & 0o777, 0o600);
    const reopened = await DomainStore.open(dir);
    assert.deepEqual(reopened.list(), [{ domain: 'example.com', identity: 'alice', verifiedAt: '2026-01-02T03:04:05.000Z' }]);
    await assert.rejects(reopened.bind('bob', 'www.example.com'), isCode('taken'));
  });

  it('serialises concurrent binds of the same domain: exactly one identity wins', async () => {
    const store = await DomainStore.open(await tempDir());
    const results = await Promise.allSettled(['alice', 'bob', 'carol', 'dave'].map((identity) => store.bind(identity, 'race.example')));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(isCode('taken')(r.reason));
    assert.equal(store.ownerOf('race.example'), (won[0] as PromiseFulfilledResult<{ identity: string }>).value.identity);
  });

  it('a corrupt file is an error naming it, and is never overwritten', async () => {
    const dir = await tempDir();
    const file = path.join(dir, DOMAINS_FILE);
    const entry = { domain: 'example.com', identity: 'alice', verifiedAt: 'x' };
    for (const content of [
      '{',
      '{"version": 1}',
      JSON.stringify({ version: 1, domains: [{ ...entry, domain: 'Example.com' }] }),
      JSON.stringify({ version: 1, domains: [{ ...entry, domain: 'not a domain' }] }),
      JSON.stringify({ version: 1, domains: [entry, { ...entry, identity: 'bob' }] }),
      JSON.stringify({ version: 1, domains: [{ ...entry, identity: '' }] }),
    ]) {
      await fs.writeFile(file, content);
      await assert.rejects(DomainStore.open(dir), (err: unknown) => err instanceof CorruptFileError && err.message.includes(file), content);
      assert.equal(await fs.readFile(file, 'utf8'), content);
    }
  });
});
