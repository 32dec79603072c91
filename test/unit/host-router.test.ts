import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeHost } from '../../common/http-headers';
import { HostRouter } from '../../relay/src/host-router';

describe('host routing', () => {
  const router = new HostRouter('example.com');
  const cases: [string | undefined, string, ReturnType<HostRouter['route']>][] = [
    ['small-fire-20477.example.com', 'small-fire-20477.example.com', { kind: 'tunnel', hostname: 'small-fire-20477.example.com' }],
    ['Small-Fire-20477.Example.COM:8080', 'small-fire-20477.example.com', { kind: 'tunnel', hostname: 'small-fire-20477.example.com' }],
    ['blog.small-fire-20477.example.com.', 'blog.small-fire-20477.example.com', { kind: 'tunnel', hostname: 'small-fire-20477.example.com' }],
    ['a.b.small-fire-20477.example.com', 'a.b.small-fire-20477.example.com', { kind: 'tunnel', hostname: 'small-fire-20477.example.com' }],
    ['example.com', 'example.com', { kind: 'relay' }],
    ['127.0.0.1:8080', '127.0.0.1', { kind: 'relay' }],
    ['[::1]:8080', '[::1]', { kind: 'relay' }],
    ['evil-example.com', 'evil-example.com', { kind: 'unknown' }],
    ['example.com.evil.org', 'example.com.evil.org', { kind: 'unknown' }],
    [undefined, '', { kind: 'relay' }],
  ];
  for (const [header, normalized, target] of cases) {
    it(`${JSON.stringify(header)} → ${JSON.stringify(target)}`, () => {
      assert.equal(normalizeHost(header), normalized);
      assert.deepEqual(router.route(normalized), target);
    });
  }

  it('routes a host it has seen before to the same tunnel, and keeps telling apart hosts it has not', () => {
    const remembering = new HostRouter('example.com');
    for (let i = 0; i < 3000; i++) assert.deepEqual(remembering.route(`h${i % 1500}.small-fire-20477.example.com`), { kind: 'tunnel', hostname: 'small-fire-20477.example.com' });
    assert.deepEqual(remembering.route('other-tunnel-1.example.com'), { kind: 'tunnel', hostname: 'other-tunnel-1.example.com' });
    assert.deepEqual(remembering.route('.example.com'), { kind: 'unknown' });
  });
});
