import assert from 'node:assert/strict';
import { startOrigin, type TestOrigin } from './origin';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from './processes';

/** A relay, a local origin, and a running agent whose assigned hostname proxies to the origin. */
export interface TunnelFixture {
  relay: RelayProcess;
  origin: TestOrigin;
  agent: RunningProcess;
  configPath: string;
  hostname: string;
  /** Runs a `portway` CLI change and waits until the agent reloaded it and the relay applied it. */
  change(args: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startTunnel(options: { relayArgs?: string[]; authKey?: string } = {}): Promise<TunnelFixture> {
  const origin = await startOrigin();
  let relay: RelayProcess | undefined;
  let agent: RunningProcess | undefined;
  try {
    relay = await startRelay({ extraArgs: options.relayArgs, authKey: options.authKey });
    const { configPath, hostname } = await configureAgent(relay, { token: options.authKey });
    const added = await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    assert.equal(added.code, 0, added.stderr);
    agent = startAgent(configPath);
    await agent.waitFor(/Connected to .* as /);
    await agent.waitFor(/Relay applied the routes/);
    const started = { relay, agent };
    return {
      relay,
      origin,
      agent,
      configPath,
      hostname,
      change: (args) => applyAgentChange(started.agent, configPath, args),
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

/** Runs a `portway` CLI change and waits (on the agent's output) until the relay applied it. */
export async function applyAgentChange(agent: RunningProcess, configPath: string, args: string[]): Promise<void> {
  const from = agent.lines.length;
  const result = await portway(configPath, args);
  assert.equal(result.code, 0, result.stderr);
  await agent.waitFor(/routes reloaded/, 10_000, from);
  await agent.waitFor(/Relay applied the routes/, 10_000, from);
}
