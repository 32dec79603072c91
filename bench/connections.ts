// `npm run bench -- --connections`: many live visitor connections through one tunnel. Opens W
// WebSockets (echo) and K keep-alive HTTP connections that go idle after one request, all held at
// once; then measures echo latency on a sample of the WebSockets, checks that new plain requests
// are still served, and reads relay and agent RSS (MiB per 1,000 connections over the idle tunnel).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import WebSocket from 'ws';
import { spawnNode } from './children';
import { readMemory, toMiB } from './process-stats';
import { startTunnel, type Tunnel } from './tunnel';

export interface ConnectionsArgs {
  webSockets: number;
  keepAlive: number;
}

/** Connections opened at once while building up (a burst of SYNs beyond the backlog would be refused). */
const OPEN_BATCH = 250;
const LATENCY_SAMPLE = 500;
const PLAIN_REQUESTS = 200;
/** The relay must not close idle visitors while the benchmark holds them. */
const RELAY_IDLE_TIMEOUT_MS = 600_000;

type Log = (line: string) => void;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function openWebSocket(port: number, host: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`, { headers: { host }, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** A keep-alive connection that made one request (200 expected) and now sits idle. */
function openIdleKeepAlive(port: number, host: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    socket.setEncoding('latin1');
    socket.once('connect', () => socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`));
    const onData = (text: string): void => {
      head += text;
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (/^HTTP\/1\.1 200 /.test(head)) resolve(socket);
      else reject(new Error(`keep-alive request answered ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('keep-alive connection closed before its answer')));
  });
}

/** Opens `count` connections, OPEN_BATCH at a time; returns those that opened and the failures' reasons. */
async function openMany<T>(count: number, open: () => Promise<T>): Promise<{ opened: T[]; failures: Map<string, number> }> {
  const opened: T[] = [];
  const failures = new Map<string, number>();
  for (let i = 0; i < count; i += OPEN_BATCH) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(OPEN_BATCH, count - i) }, open));
    for (const result of batch) {
      if (result.status === 'fulfilled') opened.push(result.value);
      else failures.set(result.reason.message, (failures.get(result.reason.message) ?? 0) + 1);
    }
  }
  return { opened, failures };
}

/** Round-trip times (ms) of one message on each of `sample` WebSockets, one after another. */
async function echoLatencies(sockets: WebSocket[]): Promise<number[]> {
  const times: number[] = [];
  const payload = Buffer.alloc(64, 'e');
  for (const ws of sockets) {
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('close', () => reject(new Error('a WebSocket closed during the latency sample')));
      ws.send(payload);
    });
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

function plainRequest(port: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(10_000, () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

function softFileLimit(): number | undefined {
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
}

export async function runConnectionsBench(options: { root: string; tmpDir: string; args: ConnectionsArgs; log: Log }): Promise<{ markdown: string; ok: boolean }> {
  const { args, log } = options;
  const total = args.webSockets + args.keepAlive;
  const fileLimit = softFileLimit();
  // Every process on the path (this one, relay, agent, origin) holds one descriptor per connection.
  if (fileLimit !== undefined && fileLimit < total + 1000) {
    throw new Error(`open-file limit ${fileLimit} is below the ${total + 1000} this run needs per process: raise it (ulimit -n) within the hard limit first`);
  }
  const origin = spawnNode('origin', path.join(__dirname, 'ws-echo-origin.js'), [], process.env);
  const originPort = Number((await origin.waitFor(/origin listening on 127\.0\.0\.1:(\d+)/, 10_000))[1]);
  let tunnel: Tunnel | undefined;
  const held: { close(): void }[] = [];
  try {
    tunnel = await startTunnel({ root: options.root, tmpDir: options.tmpDir, origin1Port: originPort, origin2Port: originPort, relayArgs: ['--idle-timeout-ms', String(RELAY_IDLE_TIMEOUT_MS)] });
    const { relayPort, hostname } = tunnel;
    const idle = { relay: readMemory(tunnel.relay.pid).rssBytes, agent: readMemory(tunnel.agent.pid).rssBytes };

    log(`connections: opening ${args.webSockets} WebSockets`);
    const ws = await openMany(args.webSockets, () => openWebSocket(relayPort, hostname));
    held.push(...ws.opened.map((s) => ({ close: () => s.terminate() })));
    log(`connections: opening ${args.keepAlive} idle keep-alive connections`);
    const ka = await openMany(args.keepAlive, () => openIdleKeepAlive(relayPort, hostname));
    held.push(...ka.opened.map((s) => ({ close: () => s.destroy() })));

    const loaded = { relay: readMemory(tunnel.relay.pid).rssBytes, agent: readMemory(tunnel.agent.pid).rssBytes };
    log(`connections: all held; echo latency over ${LATENCY_SAMPLE} WebSockets`);
    const step = Math.max(1, Math.floor(ws.opened.length / LATENCY_SAMPLE));
    const latencies = await echoLatencies(ws.opened.filter((_, i) => i % step === 0).slice(0, LATENCY_SAMPLE));
    const statuses = await Promise.all(Array.from({ length: PLAIN_REQUESTS }, () => plainRequest(relayPort, hostname)));
    const served = statuses.filter((s) => s === 200).length;
    const peak = { relay: readMemory(tunnel.relay.pid).hwmBytes, agent: readMemory(tunnel.agent.pid).hwmBytes };

    const held1000 = (ws.opened.length + ka.opened.length) / 1000;
    const perThousand = (bytes: number): string => (held1000 > 0 ? (toMiB(bytes) / held1000).toFixed(2) : 'n/a');
    const failed = (f: Map<string, number>): string => (f.size === 0 ? 'none' : [...f].map(([why, n]) => `${n}× ${why}`).join('; '));
    const p99 = latencies.length ? percentile(latencies, 99) : Number.NaN;
    const ok = ws.opened.length === args.webSockets && ka.opened.length === args.keepAlive && served === PLAIN_REQUESTS && p99 < 50;
    const markdown = [
      `## Live connections through one tunnel`,
      '',
      `${new Date().toISOString()}; relay --idle-timeout-ms ${RELAY_IDLE_TIMEOUT_MS}; open-file soft limit ${fileLimit ?? 'unlimited'}`,
      '',
      '| figure | value |',
      '|---|---|',
      `| WebSockets accepted | ${ws.opened.length} / ${args.webSockets} (failures: ${failed(ws.failures)}) |`,
      `| idle keep-alive connections accepted | ${ka.opened.length} / ${args.keepAlive} (failures: ${failed(ka.failures)}) |`,
      `| echo round trip over ${latencies.length} of the WebSockets, all held | p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (target < 50 ms) |`,
      `| new plain requests while all are held | ${served} / ${PLAIN_REQUESTS} answered 200 |`,
      `| relay RSS idle → all held (peak) | ${toMiB(idle.relay).toFixed(1)} → ${toMiB(loaded.relay).toFixed(1)} MiB (${toMiB(peak.relay).toFixed(1)}) |`,
      `| agent RSS idle → all held (peak) | ${toMiB(idle.agent).toFixed(1)} → ${toMiB(loaded.agent).toFixed(1)} MiB (${toMiB(peak.agent).toFixed(1)}) |`,
      `| MiB per 1,000 connections | relay ${perThousand(loaded.relay - idle.relay)}, agent ${perThousand(loaded.agent - idle.agent)} |`,
      '',
      ok ? 'Every connection accepted, p99 under 50 ms, plain requests served.' : '**Not met**: see the figures above.',
      '',
    ].join('\n');
    return { markdown, ok };
  } finally {
    for (const h of held) h.close();
    await tunnel?.stop();
    origin.proc.stdin?.end();
  }
}
