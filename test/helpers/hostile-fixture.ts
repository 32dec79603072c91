/**
 * A relay under attack and a canary beside it: a real relay process, an origin, and a real agent
 * serving it. Hostile tests end with `healthy()`: relay up, RSS near its baseline, canary answering.
 */
import type { TestOrigin } from './origin';
import type { RelayProcess, RunningProcess } from './processes';
import { assertRelayHealthy, getThrough, rssKiB, type Canary } from './relay-health';
import { startTunnel } from './tunnel-fixture';

export interface HostileFixture {
  relay: RelayProcess;
  origin: TestOrigin;
  canary: Canary & { configPath: string; agent: RunningProcess };
  baselineKiB: number;
  healthy(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHostileFixture(options: { relayArgs?: string[]; authKey?: string } = {}): Promise<HostileFixture> {
  const tunnel = await startTunnel(options);
  const { relay, origin, agent, configPath, hostname } = tunnel;
  const canary = { hostname, marker: 'hello from origin', configPath, agent };
  try {
    // Warm up (JIT, buffers) before the baseline is taken.
    for (let i = 0; i < 20; i++) await getThrough(relay.port, hostname, '/');
  } catch (err) {
    await tunnel.stop();
    throw err;
  }
  const baselineKiB = rssKiB(relay.child.pid!);
  return {
    relay,
    origin,
    canary,
    baselineKiB,
    healthy: () => assertRelayHealthy(relay, baselineKiB, canary),
    stop: () => tunnel.stop(),
  };
}
