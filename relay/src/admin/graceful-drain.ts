import type { LogLine } from '../logging/relay-logger';

/** How long agents get to answer the relay's WebSocket close before it exits anyway. */
const GOODBYE_TIMEOUT_MS = 2_000;

export interface Drainable {
  /** Refuses new work and resolves when nothing is in flight. */
  drain(): Promise<void>;
  /** Tells the agents to go away (so they reconnect at once) and waits for their goodbye. */
  goAway(timeoutMs: number): Promise<void>;
  /** Closes everything. */
  close(): Promise<void>;
}

/**
 * SIGTERM (or SIGINT): drain, then close and exit 0, after at most timeoutMs. A second signal
 * ends the process at once. Agents are told to go away at the end, not the start: a GoAway
 * ends their session, and with it the downloads still in flight.
 */
export function drainOnSignals(target: Drainable, timeoutMs: number, log: LogLine): void {
  let draining = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (draining) {
      log(`${signal} again: exiting now`);
      process.exit(0);
    }
    draining = true;
    log(`${signal}: draining (health answers 503, new requests refused; in-flight ones have ${timeoutMs} ms)`, { signal, drainTimeoutMs: timeoutMs });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('drain timeout reached'), timeoutMs);
    });
    void Promise.race([target.drain().then(() => 'nothing in flight'), timedOut])
      .then((why) => {
        clearTimeout(timer);
        log(`drained (${why}); closing agent sessions and exiting`);
        return target.goAway(GOODBYE_TIMEOUT_MS).then(() => target.close());
      })
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
