import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlushTiming } from '../../mux/flush-timing';

/**
 * A FlushTiming on a loop idle time the test sets: `send` schedules a flush and reports whether it
 * ran as a microtask (before an immediate queued with the send) or at the turn's end.
 */
function timing() {
  const loop = { idle: 0 };
  let flushedAs: ((how: 'microtask' | 'turn end') => void) | undefined;
  let immediateRan = false;
  const flushTiming = new FlushTiming(
    () => {
      flushedAs?.(immediateRan ? 'turn end' : 'microtask');
      flushTiming.flushed(1);
    },
    () => loop.idle,
  );
  const send = (): Promise<'microtask' | 'turn end'> =>
    new Promise((resolve) => {
      flushedAs = resolve;
      immediateRan = false;
      setImmediate(() => (immediateRan = true));
      flushTiming.schedule();
    });
  return { loop, send };
}

describe('FlushTiming', () => {
  it('flushes a lone send when its callback returns while the loop waits between sends', async () => {
    const { loop, send } = timing();
    for (let i = 0; i < 5; i++) {
      loop.idle += 0.05; // the loop waited for the next request
      assert.equal(await send(), 'microtask');
    }
  });

  it('batches per turn once the loop did not wait between two flushes, and goes back after single-frame flushes', async () => {
    const { loop, send } = timing();
    loop.idle += 0.05;
    assert.equal(await send(), 'microtask');
    assert.equal(await send(), 'microtask'); // no wait since the last flush: busy from now on
    for (let i = 0; i < 4; i++) assert.equal(await send(), 'turn end');
    loop.idle += 0.05;
    assert.equal(await send(), 'microtask'); // four single-frame flushes: sparse again
  });

  it('reads the idle time of the real loop by default', async () => {
    let flushes = 0;
    const flushTiming = new FlushTiming(() => {
      flushes++;
      flushTiming.flushed(1);
    });
    flushTiming.schedule();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(flushes, 1);
  });
});
