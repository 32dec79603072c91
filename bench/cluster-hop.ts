// The "cluster" row: the extra hop of a relay cluster (issue 14). Debian's redis-server, relay A
// holding the tunnel (its agent connected to it) and relay B sharing A's Redis; small requests go
// through A (the owner) and through B, which forwards them over its pooled connections to A's
// cluster port. Reported as ratios: non-owner / owner and non-owner / direct.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Child, spawnChild, spawnNode, stopChild } from './children';
import { errorNote } from './measure';
import { freePort } from './nginx-front';
import { childEnv, ONE_ADDRESS_LOAD, relayBin, startTunnel } from './tunnel';
import { WrkResult, runWrk } from './wrk';

const WARMUP_SECONDS = 2;
const LEVELS = [1, 50] as const;
const SECRET = 'bench-cluster-secret-0123456789abcdef';

export interface ClusterHop {
  levels: Record<(typeof LEVELS)[number], { owner: WrkResult; nonOwner: WrkResult }>;
}

/** Why the row cannot be measured (redis-server missing), or undefined. */
export function redisMissing(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  return found ? undefined : 'redis-server is not installed (apt-get install redis-server)';
}

export async function measureClusterHop(opts: { root: string; tmpDir: string; origin1Port: number; origin2Port: number; durationSec: number; log: (line: string) => void }): Promise<ClusterHop> {
  const { log } = opts;
  const started: Child[] = [];
  const redisPort = await freePort();
  const redis = spawnChild('redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], process.env);
  started.push(redis);
  const clusterArgs = ['--redis', `redis://127.0.0.1:${redisPort}`, '--cluster-secret', SECRET, '--cluster-host', '127.0.0.1', '--cluster-port', '0'];
  try {
    await redis.waitFor(/Ready to accept connections/, 10_000);
    const owner = await startTunnel({ ...opts, tmpDir: path.join(opts.tmpDir, 'cluster-a'), relayArgs: clusterArgs });
    started.push(owner.relay, owner.agent);
    const otherDir = path.join(opts.tmpDir, 'cluster-b');
    fs.mkdirSync(otherDir, { recursive: true });
    const other = spawnNode('relay-b', relayBin(opts.root), ['--domain', 'localhost', '--host', '127.0.0.1', '--port', '0', '--data-dir', otherDir, ...ONE_ADDRESS_LOAD, ...clusterArgs], childEnv(otherDir));
    started.push(other);
    const otherPort = Number((await other.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, 15_000))[1]);
    const run = (port: number, connections: number, durationSec: number) => runWrk({ url: `http://127.0.0.1:${port}/small`, host: owner.hostname, connections, durationSec });
    log(`cluster: warm-up ${WARMUP_SECONDS} s through the non-owner relay`);
    await run(otherPort, 50, WARMUP_SECONDS);
    const levels = {} as ClusterHop['levels'];
    for (const c of LEVELS) {
      log(`cluster: small requests, ${c} connection(s), ${opts.durationSec} s via the owner, then via the non-owner`);
      const viaOwner = await run(owner.relayPort, c, opts.durationSec);
      const viaOther = await run(otherPort, c, opts.durationSec);
      levels[c] = { owner: viaOwner, nonOwner: viaOther };
      log(`  owner ${viaOwner.reqPerSec.toFixed(0)} req/s${errorNote(viaOwner)}, non-owner ${viaOther.reqPerSec.toFixed(0)} req/s${errorNote(viaOther)}`);
    }
    return { levels };
  } finally {
    await Promise.all(started.reverse().map((child) => stopChild(child.proc)));
  }
}

/** The report's cluster section: req/s and p50 via the owner and via a non-owner, with ratios. */
export function clusterHopMarkdown(hop: ClusterHop | undefined, note: string | undefined, directReqPerSec: Record<number, number>): string {
  const lines = ['', '## Cluster: through a non-owner relay (one extra hop)', ''];
  if (!hop) return [...lines, `not measured: ${note ?? 'skipped'}`, ''].join('\n');
  lines.push('| small requests | via owner req/s (p50 ms) | via non-owner req/s (p50 ms) | non-owner / owner | non-owner / direct | owner / direct |', '|---|---|---|---|---|---|');
  for (const c of LEVELS) {
    const { owner, nonOwner } = hop.levels[c];
    const direct = directReqPerSec[c];
    lines.push(
      `| c${c} | ${owner.reqPerSec.toFixed(0)} (${owner.p50Ms.toFixed(2)}) | ${nonOwner.reqPerSec.toFixed(0)} (${nonOwner.p50Ms.toFixed(2)}) | ${(nonOwner.reqPerSec / owner.reqPerSec).toFixed(2)}x | ${(nonOwner.reqPerSec / direct).toFixed(2)}x | ${(owner.reqPerSec / direct).toFixed(2)}x |`,
    );
  }
  lines.push('', 'redis-server, relay A holding the tunnel and relay B on the same Redis; B forwards over pooled, kept-alive connections to A’s cluster port.', '');
  return lines.join('\n');
}
