/**
 * An origin that misbehaves on purpose, behind a real tunnel (relay + agent processes on loopback):
 *   /cut?bytes=N    → a close-delimited 200 (no length), N bytes, then a TCP reset
 *   /hold?bytes=N   → the same head and N bytes, then nothing (until the test kills something)
 *   /early-413      → 413 and close before reading the request body
 *   /never          → never answers nor reads ('waiting' once the request arrived)
 *   /upgrade-anyway → a 101 to a request that asked for no upgrade
 *   anything else   → 200 "hello from origin"
 * Every request's Host is recorded, so a test can prove none crossed to the wrong origin.
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertBackToBaseline, baselineOf, type ProcessBaseline } from './process-health';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from './processes';
import { getThrough } from './relay-health';

export const ORIGIN_MARKER = 'hello from origin';

export interface HostileOrigin {
  port: number;
  /** Host headers of every request the origin parsed, in order. */
  hosts: string[];
  /** 'holding' once a /hold response has sent its bytes; 'waiting' once a /never request arrived. */
  events: EventEmitter;
  close(): Promise<void>;
}

function pattern(bytes: number): Buffer {
  return Buffer.alloc(bytes, 'x');
}

export async function startHostileOrigin(): Promise<HostileOrigin> {
  const events = new EventEmitter();
  const hosts: string[] = [];
  const server = http.createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    const url = new URL(req.url ?? '/', 'http://origin');
    const bytes = Number(url.searchParams.get('bytes') ?? 0);
    const closeDelimitedHead = 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n';
    if (url.pathname === '/cut') {
      // Bypasses Node's framing: exactly the bytes a crashing origin would leave on the wire.
      req.socket.write(closeDelimitedHead);
      req.socket.write(pattern(bytes), () => req.socket.resetAndDestroy());
      return;
    }
    if (url.pathname === '/hold') {
      req.socket.write(closeDelimitedHead);
      req.socket.write(pattern(bytes), () => events.emit('holding'));
      return;
    }
    if (url.pathname === '/early-413') {
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
      return void res.end('too large\n');
    }
    if (url.pathname === '/never') {
      req.pause();
      return void events.emit('waiting');
    }
    if (url.pathname === '/upgrade-anyway') {
      req.socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: anything\r\n\r\n');
      return;
    }
    req.resume();
    res.end(ORIGIN_MARKER);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hosts,
    events,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A relay, an agent and a hostile origin behind one hostname; relay descriptors and memory baselined. */
export interface HostileOriginTunnel {
  relay: RelayProcess;
  readonly agent: RunningProcess;
  origin: HostileOrigin;
  configPath: string;
  hostname: string;
  /** http://127.0.0.1:<relay port><path> (send with Host: hostname). */
  viaRelay(path: string): string;
  /** http://127.0.0.1:<origin port><path>: the same request without the tunnel. */
  direct(path: string): string;
  /** Starts a new agent for the same config (after a test killed the last one). */
  restartAgent(): Promise<void>;
  /** The relay's descriptors and RSS are back to their baseline (canary round trips in between). */
  relayBackToBaseline(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHostileOriginTunnel(options: { relayArgs?: string[] } = {}): Promise<HostileOriginTunnel> {
  const origin = await startHostileOrigin();
  const relay = await startRelay({ extraArgs: options.relayArgs });
  let agent: RunningProcess | undefined;
  try {
    const { configPath, hostname } = await configureAgent(relay);
    const added = await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    if (added.code !== 0) throw new Error(added.stderr);
    agent = startAgent(configPath);
    await agent.waitFor(/Relay applied the routes/);
    const canary = async () => {
      const answer = await getThrough(relay.port, hostname, '/');
      if (answer.status !== 200 || answer.body !== ORIGIN_MARKER) throw new Error(`canary answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    };
    for (let i = 0; i < 20; i++) await canary(); // warm up before the baseline
    const base: ProcessBaseline = baselineOf('relay', relay.child.pid!);
    let running = agent;
    return {
      relay,
      get agent() {
        return running;
      },
      origin,
      configPath,
      hostname,
      viaRelay: (path) => `http://127.0.0.1:${relay.port}${path}`,
      direct: (path) => `http://127.0.0.1:${origin.port}${path}`,
      async restartAgent() {
        await running.stop('SIGKILL');
        running = startAgent(configPath);
        await running.waitFor(/Relay applied the routes/);
      },
      relayBackToBaseline: () => assertBackToBaseline(base, canary),
      async stop() {
        await running.stop();
        await relay.stop();
        await origin.close();
      },
    };
  } catch (err) {
    await agent?.stop();
    await relay.stop();
    await origin.close();
    throw err;
  }
}
