import { after } from 'node:test';

/**
 * Things a test suite started (processes, servers) to stop after its last test, newest first.
 * `track(thing)` registers one and returns it; `cleanups.push(fn)` registers any other clean-up.
 * Call it inside a `describe`, so the `after` hook belongs to that suite.
 */
export function suiteCleanups(): {
  cleanups: (() => Promise<void>)[];
  track: <T extends { stop(): Promise<void> } | { close(): Promise<void> }>(thing: T) => T;
} {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const track = <T extends { stop(): Promise<void> } | { close(): Promise<void> }>(thing: T): T => {
    cleanups.push(() => ('stop' in thing ? thing.stop() : thing.close()));
    return thing;
  };
  return { cleanups, track };
}
