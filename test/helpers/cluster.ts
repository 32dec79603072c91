// A relay cluster for the e2e tests: the shared flags of its relays, and Debian's nginx in front
// with the shipped deploy/nginx/portway-cluster.conf (addresses substituted) and, for TCP ports,
// the stream {} config deploy/nginx/portway-cluster-tcp.sh prints.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startNginx, substitute } from './nginx';
import { ROOT, tempDir, type RelayProcess, type RunningProcess } from './processes';
import { freePortRange } from './tcp';

export const CLUSTER_SECRET = 'cluster-secret-for-tests-0123456789abcdef';

/** The flags every relay of a test cluster shares: Redis, the secret, a cluster port on loopback. */
export function clusterArgs(redisUrl: string): string[] {
  return ['--redis', redisUrl, '--cluster-secret', CLUSTER_SECRET, '--cluster-host', '127.0.0.1', '--cluster-port', '0'];
}

/** The shipped cluster config, as text. */
function shippedClusterSite(): string {
  return fs.readFileSync(path.join(ROOT, 'deploy', 'nginx', 'portway-cluster.conf'), 'utf8');
}

/** Debian's nginx stream module (libnginx-mod-stream), or undefined when it is not installed. */
export function nginxStreamModule(): string | undefined {
  const module = '/usr/lib/nginx/modules/ngx_stream_module.so';
  return fs.existsSync(module) ? module : undefined;
}

/** nginx's top-level config for TCP ports `range` ("A-B") on 127.0.0.1, as the shipped script prints it. */
function tcpStreamConfig(streamModule: string, range: string, relays: RelayProcess[]): string {
  const script = path.join(ROOT, 'deploy', 'nginx', 'portway-cluster-tcp.sh');
  const stream = execFileSync('sh', [script, range, ...relays.map((relay) => relay.host)], { env: { ...process.env, LISTEN_HOST: '127.0.0.1' }, encoding: 'utf8' });
  return `load_module ${streamModule};\n${stream}`;
}

/**
 * nginx in front of `relays` (the shipped file's three upstreams, taken in turn from `relays`),
 * listening on a free loopback port; with `tcp`, also the TCP ports of that range on 127.0.0.1.
 */
export async function startClusterNginx(nginx: string, relays: RelayProcess[], tcp?: { streamModule: string; range: string }): Promise<{ lbPort: number; nginx: RunningProcess }> {
  const lbPort = (await freePortRange(1)).first;
  const site = substitute(shippedClusterSite(), [
    ...['relay-a', 'relay-b', 'relay-c'].map((name, i): [string, string] => [`${name}:8080`, `${relays[i % relays.length].host}:${relays[i % relays.length].port}`]),
    ['listen 80;', `listen 127.0.0.1:${lbPort};`],
    ['tunnels.example.com', 'localhost'],
  ]);
  const topLevel = tcp && tcpStreamConfig(tcp.streamModule, tcp.range, relays);
  return { lbPort, nginx: await startNginx(nginx, tempDir('portway-lb-'), site, topLevel) };
}
