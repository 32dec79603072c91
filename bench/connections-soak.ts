// `npm run bench -- --soak [N]`: volume through one tunnel, to show nothing grows with it. First
// 70,000 new connections (one request each, a few lanes one after another), then N keep-alive
// requests (default 1,000,000) in ten slices; after each slice the relay's and the agent's RSS and
// open descriptors (/proc). A leak shows as a rise from slice to slice, not as a high first figure
// (heap and pools reach their working size in the first slice). The CI test
// (test/e2e/faults-connection-churn.test.ts) runs the same loops at a tenth of the keep-alive count.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeFailures, keepAliveRequests, newConnectionRequests, type LoopTarget } from '../test/helpers/request-loops';
import { spawnNode } from './children';
import { readMemory, toMiB } from './process-stats';
import { startTunnel, type Tunnel } from './tunnel';

export interface SoakArgs {
  keepAliveRequests: number;
  newConnections: number;
}

const SLICES = 10;
const LANES = 4;
const KEEP_ALIVE_CONNECTIONS = 10;
/** Growth from the first slice's end to the last one's above which the run is called a leak. */
const GROWTH_LIMIT_MIB = 16;
const FD_SLACK = 2;
const FD_SETTLE_MS = 15_000;

type Log = (line: string) => void;

interface Checkpoint {
  label: string;
  relay: { rssBytes: number; fds: number };
  agent: { rssBytes: number; fds: number };
}

function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** The agent's descriptors at the end of the first keep-alive slice. */
function warmFds(points: Checkpoint[]): number {
  return points[2].agent.fds;
}

function checkpoint(label: string, tunnel: Tunnel): Checkpoint {
  const of = (pid: number) => ({ rssBytes: readMemory(pid).rssBytes, fds: fdCount(pid) });
  return { label, relay: of(tunnel.relay.pid), agent: of(tunnel.agent.pid) };
}

export async function runSoakBench(options: { root: string; tmpDir: string; args: SoakArgs; log: Log }): Promise<{ markdown: string; ok: boolean }> {
  const { args, log } = options;
  const origin = spawnNode('origin', path.join(__dirname, 'origin.js'), [], process.env);
  const originPort = Number((await origin.waitFor(/origin listening on 127\.0\.0\.1:(\d+)/, 10_000))[1]);
  let tunnel: Tunnel | undefined;
  try {
    tunnel = await startTunnel({ root: options.root, tmpDir: options.tmpDir, origin1Port: originPort, origin2Port: originPort });
    const target: LoopTarget = { port: tunnel.relayPort, host: tunnel.hostname, path: '/small' };
    const points: Checkpoint[] = [checkpoint('idle', tunnel)];
    const rows: string[] = [];
    let failures = 0;

    log(`soak: ${args.newConnections} new connections`);
    const churn = await newConnectionRequests(target, args.newConnections, LANES);
    failures += args.newConnections - churn.ok;
    points.push(checkpoint(`after ${args.newConnections} new connections`, tunnel));
    rows.push(`| ${args.newConnections} new connections (${LANES} lanes) | ${churn.ok} | ${describeFailures(churn.failures)} | ${Math.round(args.newConnections / (churn.ms / 1000))} conn/s |`);

    const slice = Math.ceil(args.keepAliveRequests / SLICES);
    let done = 0;
    const kept = { ok: 0, ms: 0, failures: new Map<string, number>() };
    while (done < args.keepAliveRequests) {
      const count = Math.min(slice, args.keepAliveRequests - done);
      const run = await keepAliveRequests(target, count, KEEP_ALIVE_CONNECTIONS);
      done += count;
      kept.ok += run.ok;
      kept.ms += run.ms;
      for (const [why, n] of run.failures) kept.failures.set(why, (kept.failures.get(why) ?? 0) + n);
      points.push(checkpoint(`after ${done} keep-alive requests`, tunnel));
      log(`soak: ${done} / ${args.keepAliveRequests} keep-alive requests, ${Math.round(count / (run.ms / 1000))}/s`);
    }
    failures += args.keepAliveRequests - kept.ok;
    // The agent closes its pooled origin connections as they idle: the descriptor count is judged
    // once it has settled (polled, up to FD_SETTLE_MS), not at the instant the last slice ended.
    const settleUntil = Date.now() + FD_SETTLE_MS;
    while (fdCount(tunnel.agent.pid) > warmFds(points) + FD_SLACK && Date.now() < settleUntil) await new Promise((r) => setTimeout(r, 100));
    points.push(checkpoint('settled', tunnel));
    rows.push(`| ${args.keepAliveRequests} keep-alive requests (${KEEP_ALIVE_CONNECTIONS} connections) | ${kept.ok} | ${describeFailures(kept.failures)} | ${Math.round(args.keepAliveRequests / (kept.ms / 1000))} req/s |`);

    // Growth is judged from the end of the first keep-alive slice, once everything is warm.
    const warm = points[2];
    const last = points[points.length - 1];
    const growth = { relay: toMiB(last.relay.rssBytes - warm.relay.rssBytes), agent: toMiB(last.agent.rssBytes - warm.agent.rssBytes) };
    const fdsBack = last.relay.fds <= warm.relay.fds + FD_SLACK && last.agent.fds <= warm.agent.fds + FD_SLACK;
    const ok = failures === 0 && growth.relay < GROWTH_LIMIT_MIB && growth.agent < GROWTH_LIMIT_MIB && fdsBack;
    const markdown = [
      '## Soak: volume through one tunnel',
      '',
      `${new Date().toISOString()}; origin GET /small (1 KiB)`,
      '',
      '| traffic | answered 200 | failures | rate |',
      '|---|---|---|---|',
      ...rows,
      '',
      '| checkpoint | relay RSS MiB | relay fds | agent RSS MiB | agent fds |',
      '|---|---|---|---|---|',
      ...points.map((p) => `| ${p.label} | ${toMiB(p.relay.rssBytes).toFixed(1)} | ${p.relay.fds} | ${toMiB(p.agent.rssBytes).toFixed(1)} | ${p.agent.fds} |`),
      '',
      `RSS growth from the first keep-alive slice to the last: relay ${growth.relay.toFixed(1)} MiB, agent ${growth.agent.toFixed(1)} MiB (limit ${GROWTH_LIMIT_MIB}); ` +
        `descriptors ${fdsBack ? 'at' : '**above**'} their count after the first slice (± ${FD_SLACK}).`,
      '',
      ok ? 'No errors, no growth.' : '**Not met**: see the figures above.',
      '',
    ].join('\n');
    return { markdown, ok };
  } finally {
    await tunnel?.stop();
    origin.proc.stdin?.end();
  }
}
