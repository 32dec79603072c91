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
