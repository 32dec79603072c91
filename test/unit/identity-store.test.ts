import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { HostnameError, IDENTITIES_FILE, IdentityLimitError, IdentityStore } from '../../relay/src/identity-store';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portway-identities-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const DAY = 24 * 60 * 60 * 1000;
const alice = { tokenId: 'tok_aaaaaaaaaaaa', tokenName: 'alice', maxIdentities: 2 };
const never = () => false;

/** A store on a clock the test moves. */
function openStore(dir = tempDir()): { store: IdentityStore; dir: string; clock: { now: number } } {
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  return { store: IdentityStore.open(dir, 'example.test', { now: () => clock.now }), dir, clock };
}

describe('IdentityStore', () => {
  it('bounds the identities of a token with a clear limit-reached error; other tokens and reconnects are not affected', () => {
    const { store } = openStore();
    const first = store.assign('id-1', undefined, alice);
    store.assign('id-2', undefined, alice);
    assert.equal(store.assign('id-1', undefined, alice), first, 'a known identity reconnects');
    assert.throws(() => store.assign('id-3', undefined, alice), (err: unknown) => err instanceof IdentityLimitError && /token "alice" allows 2 agent identities and holds 2/.test(err.message));
    assert.equal(store.hostnameOf('id-3'), undefined, 'nothing is kept for a refused identity');
    assert.ok(store.assign('id-3', undefined, { tokenId: 'tok_bbbbbbbbbbbb', maxIdentities: 2 }));
    assert.ok(store.assign('id-4'), 'no token (AUTH_KEY, open relay): no count');
    assert.deepEqual(Object.fromEntries(store.countByToken()), { tok_aaaaaaaaaaaa: 2, tok_bbbbbbbbbbbb: 1 });
  });

  it('an identity moving to a token at its limit is refused and keeps its hostname', () => {
    const { store } = openStore();
    store.assign('id-1', undefined, alice);
    store.assign('id-2', undefined, alice);
    const hostname = store.assign('id-legacy');
    assert.throws(() => store.assign('id-legacy', undefined, alice), IdentityLimitError);
    assert.equal(store.hostnameOf('id-legacy'), hostname);
  });

  it('checks a requested hostname before the limit, and keeps the old rules for it', () => {
    const { store } = openStore();
    assert.equal(store.assign('id-1', 'My-App', alice), 'my-app.example.test');
    assert.throws(() => store.assign('id-2', 'my-app.example.test', alice), (err: unknown) => err instanceof HostnameError && err.code === 'taken');
    assert.throws(() => store.assign('id-2', 'not a label', alice), (err: unknown) => err instanceof HostnameError && err.code === 'invalid');
    assert.equal(store.assign('id-1', 'renamed', alice), 'renamed.example.test');
    assert.equal(store.ownerOf('my-app.example.test'), undefined, 'the old name is free again');
  });

  it('reclaims identities unused for the idle time, except reservations and those it is told to keep', () => {
    const { store, clock } = openStore();
    const stale = store.assign('stale', undefined, alice);
    store.assign('reserved', 'mine', alice);
    store.assign('kept', undefined, { tokenId: 'tok_bbbbbbbbbbbb' });
    clock.now += 10 * DAY;
    const recent = store.assign('recent');
    clock.now += 25 * DAY;
    assert.deepEqual(store.reclaimIdle(30 * DAY, (id) => id === 'kept'), [stale]);
    assert.equal(store.hostnameOf('stale'), undefined);
    assert.equal(store.ownerOf(stale), undefined, 'the hostname is free again');
    assert.equal(store.hostnameOf('reserved'), 'mine.example.test');
    assert.equal(store.hostnameOf('recent'), recent);
    assert.ok(store.hostnameOf('kept'));
    assert.equal(store.countByToken().get(alice.tokenId), 1, 'the reclaimed identity no longer counts against its token');
  });

  it('counts idle time from the last session end (touch), not from creation', () => {
    const { store, clock } = openStore();
    store.assign('busy');
    clock.now += 29 * DAY;
    store.touch('busy');
    clock.now += 29 * DAY;
    assert.deepEqual(store.reclaimIdle(30 * DAY, never), []);
    clock.now += 2 * DAY;
    assert.equal(store.reclaimIdle(30 * DAY, never).length, 1);
  });

  it('persists owners, reservations and last use across a restart; reads files written before them', () => {
    const { store, dir, clock } = openStore();
    const hostname = store.assign('id-1', undefined, alice);
    store.assign('id-2', 'reserved', alice);
    const reopened = IdentityStore.open(dir, 'example.test', { now: () => clock.now + 365 * DAY });
    assert.equal(reopened.hostnameOf('id-1'), hostname);
    assert.equal(reopened.countByToken().get(alice.tokenId), 2);
    assert.throws(() => reopened.assign('id-3', undefined, alice), IdentityLimitError);
    assert.deepEqual(reopened.reclaimIdle(30 * DAY, never), [hostname]);

    const legacyDir = tempDir();
    const legacy = { version: 1, identities: { old: { hostname: 'old.example.test', createdAt: '2020-01-01T00:00:00.000Z' } } };
    fs.writeFileSync(path.join(legacyDir, IDENTITIES_FILE), JSON.stringify(legacy));
    const upgraded = IdentityStore.open(legacyDir, 'example.test');
    assert.equal(upgraded.assign('old'), 'old.example.test');
    assert.equal(upgraded.countByToken().size, 0);
  });

  it('does not rewrite the file on every reconnect', () => {
    const { store, dir } = openStore();
    store.assign('id-1', undefined, alice);
    const file = path.join(dir, IDENTITIES_FILE);
    const before = fs.statSync(file).ino;
    for (let i = 0; i < 5; i++) store.assign('id-1', undefined, alice);
    store.touch('id-1');
    assert.equal(fs.statSync(file).ino, before, 'an atomic rewrite would have replaced the file');
  });
});
