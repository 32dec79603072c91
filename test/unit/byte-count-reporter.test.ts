/**
 * Live byte counts, by hand-ticked clock: one coalesced report per tick listing only the
 * connections that moved, nothing when nothing moved, and a timer that exists only while a
 * connection is open (unref'd, stopped on the last close and on dispose).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { AgentCoreEvent } from '../../agent/src/rpc/agent-core';
import { ByteCountReporter, type IntervalTimer } from '../../agent/src/rpc/byte-count-reporter';
import { OpenConnections } from '../../agent/src/rpc/open-connections';
import type { ConnectionBytes } from '../../protocol/rpc';

/** A timer that runs only when the test says so, and records what was asked of it. */
class ManualTimer implements IntervalTimer {
  active: { run: () => void; ms: number; unrefed: boolean } | undefined;
  started = 0;
  cleared = 0;
  setInterval(run: () => void, ms: number) {
    assert.equal(this.active, undefined, 'never two timers at once');
    const entry = { run, ms, unrefed: false };
    this.active = entry;
    this.started++;
    return { unref: () => (entry.unrefed = true) };
  }
  clearInterval(): void {
    this.active = undefined;
    this.cleared++;
  }
  tick(): void {
    this.active?.run();
  }
}

const counters = (bytesIn = 0, bytesOut = 0) => ({ bytesIn, bytesOut });

test('reporter: coalesces changed connections into one report per tick, skips quiet ticks', () => {
  const timer = new ManualTimer();
  const reports: ConnectionBytes[][] = [];
  const reporter = new ByteCountReporter({ report: (changed) => reports.push(changed), timer, intervalMs: 1000 });
  assert.equal(reporter.running, false, 'no timer before any connection');
  assert.equal(timer.started, 0);

  const a = counters(100, 0);
  const b = counters();
  const c = counters();
  reporter.track('a', a);
  reporter.track('b', b);
  reporter.track('c', c);
  assert.equal(timer.started, 1, 'one timer for all connections');
  assert.equal(timer.active?.ms, 1000);
  assert.equal(timer.active?.unrefed, true, 'the timer does not keep the process alive');

  timer.tick();
  assert.deepEqual(reports, [], 'counts as of track() are the baseline: nothing changed yet');

  a.bytesOut = 5000;
  c.bytesIn = 7;
  timer.tick();
  assert.deepEqual(reports, [[{ id: 'a', bytesIn: 100, bytesOut: 5000 }, { id: 'c', bytesIn: 7, bytesOut: 0 }]], 'one message, only the changed ones');

  timer.tick();
  assert.equal(reports.length, 1, 'nothing moved: nothing sent');

  a.bytesOut = 9000;
  timer.tick();
  assert.deepEqual(reports[1], [{ id: 'a', bytesIn: 100, bytesOut: 9000 }], 'growing counts are reported again');

  reporter.untrack('a');
  reporter.untrack('b');
  assert.equal(reporter.running, true, 'c is still open');
  reporter.untrack('c');
  assert.equal(reporter.running, false, 'stopped with the last connection');
  assert.equal(timer.cleared, 1);

  reporter.track('d', counters());
  assert.equal(timer.started, 2, 'a new connection starts it again');
  reporter.dispose();
  assert.equal(reporter.running, false, 'dispose stops it');
  assert.equal(timer.cleared, 2);
});

test('reporter: a connection untracked between ticks is never reported after it', () => {
  const timer = new ManualTimer();
  const reports: ConnectionBytes[][] = [];
  const reporter = new ByteCountReporter({ report: (changed) => reports.push(changed), timer });
  const a = counters();
  const b = counters();
  reporter.track('a', a);
  reporter.track('b', b);
  a.bytesIn = 10;
  b.bytesIn = 20;
  reporter.untrack('a');
  timer.tick();
  assert.deepEqual(reports, [[{ id: 'b', bytesIn: 20, bytesOut: 0 }]]);
  reporter.dispose();
});

test('reporter: the real timer is unref\'d and cleared', () => {
  const reporter = new ByteCountReporter({ report: () => undefined });
  reporter.track('a', counters());
  const handle = (reporter as unknown as { handle: NodeJS.Timeout }).handle;
  assert.equal(handle.hasRef(), false);
  reporter.untrack('a');
  assert.equal(reporter.running, false);
});

test('open connections: open, live updates, list with current counts, close with final counts', () => {
  const timer = new ManualTimer();
  const events: AgentCoreEvent[] = [];
  const connections = new OpenConnections((e) => events.push(e), { timer });
  const streamA = counters(120, 0); // the request head was read before the open
  const streamB = counters(80, 0);
  connections.opened({ id: 1, route: { kind: 'http', domain: 'a.relay.test' }, remoteAddress: '127.0.0.1', openedAt: 1, counters: streamA });
  connections.opened({ id: 3, route: { kind: 'tcp', port: 22001 }, remoteAddress: '127.0.0.2', openedAt: 2, counters: streamB });
  assert.deepEqual(events.map((e) => e.type), ['connectionOpen', 'connectionOpen']);
  const open = events[0].type === 'connectionOpen' ? events[0].connection : assert.fail();
  assert.deepEqual(open, { id: 'c1', route: { kind: 'http', domain: 'a.relay.test' }, clientAddress: '127.0.0.1', openedAt: 1, bytesIn: 120, bytesOut: 0 });

  streamA.bytesOut = 64 * 1024;
  timer.tick();
  assert.deepEqual(events.at(-1), { type: 'connectionUpdate', update: { connections: [{ id: 'c1', bytesIn: 120, bytesOut: 64 * 1024 }] } });
  streamB.bytesOut = 3;
  assert.deepEqual(connections.list().map((c) => [c.id, c.bytesIn, c.bytesOut]), [['c1', 120, 64 * 1024], ['c2', 80, 3]], 'list reads the live counters');

  connections.closed({ id: 1, bytesIn: 120, bytesOut: 70_000 });
  const close = events.at(-1);
  assert.ok(close?.type === 'connectionClose');
  assert.deepEqual({ ...close.close, closedAt: 0 }, { id: 'c1', bytesIn: 120, bytesOut: 70_000, closedAt: 0 });
  assert.ok(timer.active, 'c2 is still open');

  const before = events.length;
  connections.closeAll();
  assert.deepEqual(events.slice(before).map((e) => (e.type === 'connectionClose' ? [e.close.id, e.close.bytesOut] : e.type)), [['c2', 3]]);
  assert.equal(timer.active, undefined, 'no open connection: no timer');
  timer.tick();
  assert.equal(events.length, before + 1, 'nothing after the last close');
  connections.dispose();
});
