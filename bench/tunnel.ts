// Starts a relay and an agent exactly as a user would, through their CLIs, with every file in a
// temp dir: relay on an ephemeral loopback port; agent configured against it with two HTTP routes
// (the tunnel hostname -> origin 1, big.<hostname> -> origin 2).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { withMallocTunables } from '../common/malloc-tunables';
import { Child, spawnNode, stopChild } from './children';

const START_TIMEOUT_MS = 15_000;
const READY_TIMEOUT_MS = 10_000;


/**
 * Every bench visitor (wrk, curl, nginx) is one address, 127.0.0.1: the per-address share of a
 * tunnel's streams, made for many visitors, would refuse half of c500 (429). Measured without it.
 */
export const ONE_ADDRESS_LOAD = ['--address-share-percent', '100'];
export interface Tunnel {
  relayPort: number;
  hostname: string; // routes to origin 1
  bigHostname: string; // routes to origin 2
  relay: Child;
  agent: Child;
  stop(): Promise<void>;
}

export interface TunnelOptions {
  root: string; // repository root
  tmpDir: string;
  origin1Port: number;
  origin2Port: number;
  /** Extra relay flags (e.g. a longer idle timeout for the connections benchmark). */
  relayArgs?: string[];
  /** Extra arguments of `portway start` (e.g. --inspect, the request inspector on). */
  agentArgs?: string[];
  /** `--profile DIR`: relay and agent write V8 CPU profiles under DIR/relay and DIR/agent when they exit. */
  profileDir?: string;
}

/**
 * Extra node options of the agent (profiling: `--cpu-prof --cpu-prof-dir=DIR`, `--trace-gc`),
 * space-separated; for the agent only, so NODE_OPTIONS (every child) is not needed.
 */
export const AGENT_NODE_ARGS_ENV = 'PORTWAY_BENCH_AGENT_NODE_ARGS';

function agentNodeArgs(): string[] {
  return (process.env[AGENT_NODE_ARGS_ENV] ?? '').split(/\s+/).filter(Boolean);
}

/** Node flags that make a child write its CPU profile into dir when it exits (SIGTERM included: both exit cleanly on it). */
export function cpuProfileFlags(dir: string | undefined): string[] {
  return dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** Writing a profile at exit takes a while; a profiled child gets longer to stop before SIGKILL (which would lose it). */
const PROFILED_STOP_GRACE_MS = 15_000;

export function relayBin(root: string): string {
  return path.join(root, 'relay', 'bin', 'portway-relay.js');
}

function agentBin(root: string): string {
  return path.join(root, 'agent', 'bin', 'portway.js');
}

/** Why the tunnel cannot be benchmarked yet, or undefined when relay and agent are built. */
export function tunnelMissing(root: string): string | undefined {
  const needed = ['relay/src/main.ts', 'agent/src/main.ts', 'relay/dist/relay.js', 'dist/portway.js'];
  const missing = needed.filter((file) => !fs.existsSync(path.join(root, file)));
  return missing.length ? `not built or not written yet: ${missing.join(', ')}` : undefined;
}

/**
 * The relay reads DOMAIN/PORT/DATA_DIR/AUTH_KEY from the environment; only our flags may count.
 * The malloc settings are those every launcher we ship sets (common/malloc-tunables.ts).
 */
export function childEnv(tmpDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = withMallocTunables({ ...process.env, HOME: tmpDir });
  for (const name of ['DOMAIN', 'PORT', 'DATA_DIR', 'AUTH_KEY']) delete env[name];
  return env;
}

/** Runs one short agent command (`configure`, `route …`) to completion; resolves with its stdout. */
function runAgentCommand(root: string, env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [agentBin(root), ...args], { env, encoding: 'utf8', timeout: START_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`portway ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.end(); // not a terminal: it must not wait for answers to prompts
  });
}

function getStatus(port: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Polls GET / with the given Host until it answers 200. */
async function waitReachable(port: number, host: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let status = 0;
  while (Date.now() < deadline) {
    status = await getStatus(port, host);
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`GET / with Host ${host} through the relay did not return 200 within ${READY_TIMEOUT_MS} ms (last status ${status || 'no response'})`);
}

export async function startTunnel(opts: TunnelOptions): Promise<Tunnel> {
  const { root, tmpDir } = opts;
  const env = childEnv(tmpDir);
  const relayDir = path.join(tmpDir, 'relay');
  const agentDir = path.join(tmpDir, 'agent');
  fs.mkdirSync(relayDir, { recursive: true });
  fs.mkdirSync(agentDir, { recursive: true });
  const config = path.join(agentDir, 'config.json');

  const profile = (name: string): string[] => cpuProfileFlags(opts.profileDir && path.join(opts.profileDir, name));
  const relayArgs = ['--domain', 'localhost', '--host', '127.0.0.1', '--port', '0', '--data-dir', relayDir, ...ONE_ADDRESS_LOAD, ...(opts.relayArgs ?? [])];
  const relay = spawnNode('relay', relayBin(root), relayArgs, env, profile('relay'));
  const stopAllStarted: Child[] = [relay];
  const grace = opts.profileDir === undefined ? undefined : PROFILED_STOP_GRACE_MS;
  const stop = async (): Promise<void> => {
    await Promise.all(stopAllStarted.map((c) => stopChild(c.proc, grace)));
  };
  try {
    const listening = await relay.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, START_TIMEOUT_MS);
    const relayPort = Number(listening[1]);

    const configured = await runAgentCommand(root, env, ['--config', config, 'configure', '--relay', `http://127.0.0.1:${relayPort}`]);
    const named = configured.match(/Hostname:\s*(\S+)/);
    if (!named) throw new Error(`portway configure printed no "Hostname: <name>" line:\n${configured}`);
    const hostname = named[1];
    const bigHostname = `big.${hostname}`;

    await runAgentCommand(root, env, ['--config', config, 'route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(opts.origin1Port)]);
    await runAgentCommand(root, env, ['--config', config, 'route', 'http', 'add', '--domain', bigHostname, '--destination', '127.0.0.1', '--http', String(opts.origin2Port)]);

    const agent = spawnNode('agent', agentBin(root), ['--config', config, 'start', ...(opts.agentArgs ?? [])], env, [...profile('agent'), ...agentNodeArgs()]);
    stopAllStarted.push(agent);
    await agent.waitFor(/Connected/, START_TIMEOUT_MS);
    await waitReachable(relayPort, hostname);
    await waitReachable(relayPort, bigHostname);
    return { relayPort, hostname, bigHostname, relay, agent, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
