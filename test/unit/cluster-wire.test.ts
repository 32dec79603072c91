import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClusterOptions } from '../../relay/src/cluster/cluster-options';
import { clusterProof, encodePooledPreamble, encodePreamble, parsePreamble } from '../../relay/src/cluster/cluster-preamble';
import { encodeLease, parseClaim, parseLease } from '../../relay/src/cluster/lease-record';

const SECRET = 's'.repeat(32);
const parse = (flags: Record<string, string>, env: Record<string, string> = {}) =>
  parseClusterOptions(new Map(Object.entries(flags)), env, (message) => new Error(message));

describe('cluster options', () => {
  it('are off without --redis, and name what is missing or wrong', () => {
    assert.equal(parse({}), undefined);
    assert.throws(() => parse({ 'cluster-port': '7000' }), /--cluster-port needs --redis/);
    assert.throws(() => parse({ redis: 'http://x' }), /redis:\/\/ or rediss:\/\//);
    assert.throws(() => parse({ redis: 'redis://r' }), /needs --cluster-secret/);
    assert.throws(() => parse({ redis: 'redis://r', 'cluster-secret': 'short' }), /at least 32/);
    assert.throws(() => parse({ redis: 'redis://r', 'cluster-secret': SECRET, 'cluster-port': '7000' }), /--cluster-advertise/);
    const options = parse({ 'cluster-secret': SECRET, 'cluster-port': '7000', 'cluster-advertise': '[::1]:7001' }, { REDIS_URL: 'redis://r:6379' });
    assert.deepEqual(options?.advertise, { host: '::1', port: 7001 });
  });
});

describe('cluster preamble and lease records', () => {
  it('round-trip, and a wrong secret or a malformed line is refused', () => {
    const proof = clusterProof(SECRET);
    const line = encodePreamble(proof, { address: '2001:db8::1', port: 4321 }).replace(/\r\n$/, '');
    assert.deepEqual(parsePreamble(line, proof), { address: '2001:db8::1', port: 4321 });
    assert.deepEqual(parsePreamble(line, clusterProof('t'.repeat(32))), { error: 'wrong cluster secret' });
    assert.deepEqual(parsePreamble(`${line} extra`, proof), { error: 'not a cluster preamble' });
    assert.deepEqual(parsePreamble(line.replace('2001:db8::1', 'evil'), proof), { error: 'bad client address' });
    const pooled = encodePooledPreamble(proof).replace(/\r\n$/, '');
    assert.deepEqual(parsePreamble(pooled, proof), { pooled: true });
    assert.deepEqual(parsePreamble(pooled, clusterProof('t'.repeat(32))), { error: 'wrong cluster secret' });
    assert.deepEqual(parsePreamble(pooled.replace(/ 0$/, ' 1'), proof), { error: 'bad client address' });
    const lease = { relayId: '0123456789abcdef', seq: 42, peer: { host: '::1', port: 7000 } };
    assert.deepEqual(parseLease(encodeLease(lease)), lease);
    assert.equal(parseLease('garbage'), undefined);
    assert.deepEqual(parseClaim('a.localhost 0123456789abcdef 7'), { hostname: 'a.localhost', relayId: '0123456789abcdef', seq: 7 });
    assert.equal(parseClaim('a.localhost nope 7'), undefined);
  });
});
