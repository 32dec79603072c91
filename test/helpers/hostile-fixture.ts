/**
 * A relay under attack and a canary beside it: a real relay process, an origin, and a real agent
 * serving it. Hostile tests end with `healthy()`: relay up, RSS near its baseline, canary answering.
 */
import { startOrigin, type TestOrigin } from './origin';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from './processes';
import { assertRelayHealthy, getThrough, rssKiB, type Canary } from './relay-health';

export interface HostileFixture {
  relay: RelayProcess;
  origin: TestOrigin;
  canary: Canary & { configPath: string; agent: RunningProcess };
  baselineKiB: number;
  healthy(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHostileFixture(options: { relayArgs?: string[]; authKey?: string; } = {}): Promise<HostileFixture> {
  const origin = await startOrigin();
  let relay: RelayProcess | undefined;
  let agent: RunningProcess | undefined;
  try {
    relay = await startRelay({ extraArgs: options.relayArgs, authKey: options.authKey });
    const { configPath, hostname } = await configureAgent(relay, { token: options.authKey });
    const added = await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    if (added.code !== 0) throw new Error(added.stderr);
    agent = startAgent(configPath);
    await agent.waitFor(/Connected to/);
    await agent.waitFor(/Relay applied the routes/);
    const canary = { hostname, marker: 'hello from origin', configPath, agent };
    // Warm up (JIT, buffers) before the baseline is taken.
    for (let i = 0; i < 20; i++) await getThrough(relay.port, hostname, '/');
    const baselineKiB = rssKiB(relay.child.pid!);
    const started = { relay, agent };
    return {
      relay,
      origin,
      canary,
      baselineKiB,
      healthy: () => assertRelayHealthy(started.relay, baselineKiB, canary),
      async stop() {
        await started.agent.stop();
        await started.relay.stop();
        await origin.close();
      },
    };
  } catch (err) {
    // Whatever started must stop, or the test process would never exit.
    await agent?.stop();
    await relay?.stop();
    await origin.close();
    throw err;
  }
}
