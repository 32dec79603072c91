/**
 * Which certificate the relay terminates its own names with (--tls-cert, --acme, both), and which
 * challenge requests the relay answers itself (only its own tokens; the rest go on to agents).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { answerOwnChallenge, ChallengeStore } from '../../common/acme/challenge-store';
import { GivenCertificate, OwnCertificate } from '../../relay/src/tls/own-certificate';
import { tempDir } from '../helpers/processes';
import { makeCa, makeLeaf } from '../helpers/test-certs';

describe('relay own-name certificates', () => {
  let dir: string;
  let given: GivenCertificate;
  const acmeContext = tls.createSecureContext();
  const obtained = { contextFor: (name: string) => (name === 'deep.app.example.com' ? acmeContext : undefined) };

  before(() => {
    dir = tempDir('portway-own-cert-');
    const ca = makeCa(dir);
    const leaf = makeLeaf(dir, ca, 'wild', ['*.example.com', 'example.com']);
    given = new GivenCertificate(leaf.certPath, leaf.keyPath);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a wildcard covers one label, the apex by name, nothing deeper', () => {
    assert.equal(given.covers('example.com'), true);
    assert.equal(given.covers('app.example.com'), true);
    assert.equal(given.covers('APP.example.com'), true);
    assert.equal(given.covers('deep.app.example.com'), false);
    assert.equal(given.covers('example.org'), false);
  });

  it('the given pair wins where it covers the name; ACME serves the others; nothing else is invented', () => {
    const both = new OwnCertificate(given, obtained);
    assert.equal(both.contextFor('app.example.com'), given.context);
    assert.equal(both.contextFor('deep.app.example.com'), acmeContext);
    assert.equal(both.covers('other.app.example.com'), false);

    const acmeOnly = new OwnCertificate(undefined, obtained);
    assert.equal(acmeOnly.covers('app.example.com'), false);
    assert.equal(acmeOnly.contextFor('deep.app.example.com'), acmeContext);

    // Without ACME the given pair serves every own name, as before --acme existed.
    assert.equal(new OwnCertificate(given, undefined).contextFor('deep.app.example.com'), given.context);
  });

  it('answers only GET/HEAD for tokens it holds; everything else falls through (undefined)', () => {
    const store = new ChallengeStore();
    store.set('tok_en-1', 'tok_en-1.thumbprint');
    assert.deepEqual(answerOwnChallenge(store, 'GET', '/.well-known/acme-challenge/tok_en-1')?.body, 'tok_en-1.thumbprint');
    assert.equal(answerOwnChallenge(store, 'HEAD', '/.well-known/acme-challenge/tok_en-1')?.status, 200);
    assert.equal(answerOwnChallenge(store, 'GET', '/.well-known/acme-challenge/other'), undefined);
    assert.equal(answerOwnChallenge(store, 'POST', '/.well-known/acme-challenge/tok_en-1'), undefined);
    assert.equal(answerOwnChallenge(store, 'GET', '/.well-known/acme-challenge/../tok_en-1'), undefined);
    assert.equal(answerOwnChallenge(store, 'GET', '/tok_en-1'), undefined);
  });
});
