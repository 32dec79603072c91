import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, rateLimitKey } from '../../relay/src/security/rate-limiter';

/** A clock the test moves by hand. */
function manualClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms), set: (ms: number) => (now = ms) };
}

describe('RateLimiter', () => {
  it('allows a burst of `capacity`, then refuses with a retry time', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 3, refillPerSecond: 1, now: clock.now });
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('a'), { allowed: true, retryAfterMs: 0 });
    assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterMs: 1000 });
    assert.deepEqual(limiter.check('a'), { allowed: false, retryAfterMs: 1000 });
    clock.advance(400);
    assert.deepEqual(limiter.check('a'), { allowed: false, retryAfterMs: 600 });
  });

  it('refills at the configured rate, up to capacity', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 2, refillPerSecond: 4, now: clock.now });
    limiter.take('a');
    limiter.take('a');
    assert.equal(limiter.check('a').allowed, false);
    clock.advance(250);
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, false);
    clock.advance(60_000);
    // Capacity caps the refill: a long quiet spell buys no bigger burst.
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, false);
  });

  it('a refused take does not push the retry further out', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, now: clock.now });
    limiter.take('a');
    for (let i = 0; i < 10; i++) limiter.take('a');
    clock.advance(1000);
    assert.equal(limiter.take('a').allowed, true);
  });

  it('keys are independent', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, now: manualClock().now });
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, false);
    assert.equal(limiter.take('b').allowed, true);
  });

  it('check neither consumes nor remembers', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, now: manualClock().now });
    for (let i = 0; i < 5; i++) assert.equal(limiter.check('a').allowed, true);
    assert.equal(limiter.size, 0);
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.size, 1);
  });

  it('costs above one', () => {
    const limiter = new RateLimiter({ capacity: 10, refillPerSecond: 1, now: manualClock().now });
    assert.equal(limiter.take('a', 7).allowed, true);
    assert.deepEqual(limiter.take('a', 5), { allowed: false, retryAfterMs: 2000 });
    assert.equal(limiter.take('a', 3).allowed, true);
    assert.throws(() => limiter.take('a', 11), RangeError);
    assert.throws(() => limiter.take('a', 0), RangeError);
  });

  it('evicts the least recently used key beyond maxKeys', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 0.001, maxKeys: 3, now: manualClock().now });
    for (const key of ['a', 'b', 'c']) limiter.take(key);
    limiter.take('a'); // a is now the most recent
    limiter.take('d'); // evicts b, the oldest
    assert.equal(limiter.size, 3);
    assert.equal(limiter.check('a').allowed, false);
    assert.equal(limiter.check('b').allowed, true, 'b should have been forgotten');
    assert.equal(limiter.check('c').allowed, false);
    assert.equal(limiter.check('d').allowed, false);
  });

  it('stays bounded under a flood of distinct keys', () => {
    const limiter = new RateLimiter({ capacity: 5, refillPerSecond: 1, maxKeys: 100, now: manualClock().now });
    for (let i = 0; i < 10_000; i++) limiter.take(`k${i}`);
    assert.equal(limiter.size, 100);
  });

  it('a clock that steps back refills nothing until it passes the last take again', () => {
    const clock = manualClock(10_000);
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, now: clock.now });
    limiter.take('a');
    clock.set(0);
    assert.equal(limiter.check('a').allowed, false);
    clock.set(10_999);
    assert.equal(limiter.check('a').allowed, false);
    clock.set(11_000);
    assert.equal(limiter.check('a').allowed, true);
  });

  it('reset forgets a key', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, now: manualClock().now });
    limiter.take('a');
    limiter.reset('a');
    assert.equal(limiter.take('a').allowed, true);
  });

  it('refuses nonsense options', () => {
    for (const options of [
      { capacity: 0, refillPerSecond: 1 },
      { capacity: 1, refillPerSecond: 0 },
      { capacity: NaN, refillPerSecond: 1 },
      { capacity: 1, refillPerSecond: Infinity },
      { capacity: 1, refillPerSecond: 1, maxKeys: 0 },
      { capacity: 1, refillPerSecond: 1, maxKeys: 1.5 },
    ]) {
      assert.throws(() => new RateLimiter(options), RangeError, JSON.stringify(options));
    }
  });

  it('uses a real clock by default', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 0.001 });
    assert.equal(limiter.take('a').allowed, true);
    const refused = limiter.take('a');
    assert.equal(refused.allowed, false);
    assert.ok(refused.retryAfterMs > 900_000);
  });
});

describe('rateLimitKey', () => {
  const cases: [string, string][] = [
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2:ffff::1', '2001:db8:1:2::/64'],
    ['::1', '::/64'],
    ['not-an-address', 'not-an-address'],
  ];
  for (const [input, key] of cases) it(`${input} → ${key}`, () => assert.equal(rateLimitKey(input), key));
});
