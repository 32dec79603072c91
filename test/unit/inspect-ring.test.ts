import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyPreview } from '../../agent/src/inspect/body-preview';
import { CaptureRing } from '../../agent/src/inspect/capture-ring';
import { BODY_PREVIEW_BYTES } from '../../protocol/inspect';

const entry = (id: number, cost = 10) => ({ id, cost });

describe('capture ring', () => {
  it('keeps the newest requests up to the count bound', () => {
    const ring = new CaptureRing({ maxRequests: 3, maxBytes: 1e9 });
    for (let id = 1; id <= 5; id++) ring.add(entry(id));
    assert.deepEqual(
      ring.newestFirst().map((e) => e.id),
      [5, 4, 3],
    );
    assert.equal(ring.get(2), undefined);
    assert.equal(ring.heldBytes, 30);
  });

  it('drops the oldest requests when the bytes held pass the memory bound', () => {
    const ring = new CaptureRing({ maxRequests: 100, maxBytes: 1000 });
    for (let id = 1; id <= 4; id++) ring.add(entry(id, 300));
    assert.deepEqual(
      ring.newestFirst().map((e) => e.id),
      [4, 3, 2],
    );
    assert.equal(ring.heldBytes, 900);
  });

  it('counts a body as it grows, evicting older requests (and itself when it alone is too big)', () => {
    const ring = new CaptureRing({ maxRequests: 100, maxBytes: 1000 });
    const a = entry(1, 100);
    const b = entry(2, 100);
    ring.add(a);
    ring.add(b);
    ring.charge(b, 750);
    assert.equal(ring.size, 2, 'still within 1000');
    ring.charge(b, 100);
    assert.deepEqual(
      ring.newestFirst().map((e) => e.id),
      [2],
    );
    ring.charge(b, 200);
    assert.equal(ring.size, 0);
    assert.equal(ring.heldBytes, 0);
    ring.charge(a, 5000); // an evicted entry still being written counts for nothing
    assert.equal(ring.heldBytes, 0);
  });

  it('shrinks to new bounds at once', () => {
    const ring = new CaptureRing({ maxRequests: 10, maxBytes: 1e9 });
    for (let id = 1; id <= 10; id++) ring.add(entry(id));
    ring.resize({ maxRequests: 2, maxBytes: 1e9 });
    assert.deepEqual(
      ring.newestFirst().map((e) => e.id),
      [10, 9],
    );
  });

  it('past its first slots it grows to the count bound, then reuses them; entries are found by id, consecutive or not', () => {
    const ring = new CaptureRing({ maxRequests: 3000, maxBytes: 1e9 });
    for (let id = 1; id <= 5000; id++) ring.add(entry(id * 2));
    assert.equal(ring.size, 3000);
    assert.deepEqual([ring.newestFirst()[0].id, ring.newestFirst()[2999].id], [10_000, 4002]);
    assert.equal(ring.get(4000), undefined, 'evicted');
    assert.equal(ring.get(4003), undefined, 'never added');
    for (const id of [4002, 4004, 7000, 10_000]) assert.equal(ring.get(id)?.id, id);
    ring.resize({ maxRequests: 5000, maxBytes: 1e9 });
    for (let id = 10_001; id <= 12_000; id++) ring.add(entry(id));
    assert.equal(ring.size, 5000, 'grown to the new bound');
    assert.deepEqual([ring.get(4002)?.id, ring.get(12_000)?.id, ring.get(11_000)?.id], [4002, 12_000, 11_000]);
    ring.clear();
    assert.deepEqual([ring.size, ring.heldBytes, ring.get(12_000)], [0, 0, undefined]);
  });

  it('refuses bounds with no room', () => {
    assert.throws(() => new CaptureRing({ maxRequests: 0, maxBytes: 10 }), /at least one request/);
  });
});

describe('body preview', () => {
  it('keeps the first 64 KiB of a body and counts the rest', () => {
    const preview = new BodyPreview();
    const chunk = Buffer.alloc(40 * 1024, 'a');
    assert.equal(preview.add(chunk), 40 * 1024);
    assert.equal(preview.add(Buffer.alloc(40 * 1024, 'b')), BODY_PREVIEW_BYTES - 40 * 1024);
    assert.equal(preview.add(Buffer.alloc(1000, 'c')), 0);
    assert.equal(preview.size, 81 * 1024 + 1000 - 1024);
    assert.equal(preview.kept, BODY_PREVIEW_BYTES);
    assert.equal(preview.truncated, true);
    const bytes = preview.bytes();
    assert.equal(bytes.length, BODY_PREVIEW_BYTES);
    assert.equal(bytes[40 * 1024 - 1], 'a'.charCodeAt(0));
    assert.equal(bytes[40 * 1024], 'b'.charCodeAt(0));
    assert.equal(bytes.includes('c'), false);
  });

  it('copies what it keeps, so the data path may reuse its buffers', () => {
    const preview = new BodyPreview();
    const chunk = Buffer.from('hello');
    preview.add(chunk);
    chunk.fill(0);
    assert.equal(preview.bytes().toString(), 'hello');
    assert.equal(preview.truncated, false);
  });
});
