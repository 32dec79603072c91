// The "behind nginx" row: the tunnel as a team deploys it behind a proxy. Debian's nginx runs the
// site file the docs ship (deploy/nginx/portway-relay.conf, ports substituted, plain HTTP so the
// figure is the proxy's and not TLS's) in front of a relay started with --trusted-proxies, so every
// request carries X-Forwarded-For and must stay on the relay's fast path to keep up with direct.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { nginxArgs, nginxBinary, NGINX_READY, SHIPPED_NGINX_SITE, substitute } from '../test/helpers/nginx-config';
import { Child, spawnChild, stopChild } from './children';
import { CONNECTION_LEVELS, Level, errorNote } from './measure';
import { cpuSeconds } from './process-stats';
import { startTunnel } from './tunnel';
import { WrkResult, runWrk } from './wrk';

const WARMUP_SECONDS = 2;

export interface BehindNginx {
  levels: Record<Level, { wrk: WrkResult; relayAgentCpuSeconds: number }>;
}

/** Why the row cannot be measured (nginx missing), or undefined. */
export function nginxMissing(): string | undefined {
  return nginxBinary() ? undefined : 'nginx is not installed (apt-get install nginx-light)';
}

/** A port 127.0.0.1 can bind right now, for nginx's listen lines (nginx cannot report an ephemeral one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function siteConfig(root: string, relayPort: number, httpPort: number, redirectPort: number): string {
  const shipped = fs.readFileSync(path.join(root, SHIPPED_NGINX_SITE), 'utf8');
  return substitute(shipped, [
    ['server 127.0.0.1:8080;', `server 127.0.0.1:${relayPort};`],
    ['listen [::]:80;', ''],
    ['listen [::]:443 ssl;', ''],
    ['listen 80;', `listen 127.0.0.1:${redirectPort};`],
    ['listen 443 ssl;', `listen 127.0.0.1:${httpPort};`],
    ['ssl_certificate     /etc/letsencrypt/live/tunnels.example.com/fullchain.pem;', ''],
    ['ssl_certificate_key /etc/letsencrypt/live/tunnels.example.com/privkey.pem;', ''],
    ['ssl_protocols TLSv1.2 TLSv1.3;', ''],
    ['tunnels.example.com', 'localhost'],
  ]);
}

/** Small requests at each connection level through nginx → relay → agent → origin 1. */
export async function measureBehindNginx(opts: {
  root: string;
  tmpDir: string;
  origin1Port: number;
  origin2Port: number;
  durationSec: number;
  log: (line: string) => void;
}): Promise<BehindNginx> {
  const { log } = opts;
  const tunnel = await startTunnel({ ...opts, tmpDir: path.join(opts.tmpDir, 'behind-nginx'), relayArgs: ['--trusted-proxies', '127.0.0.1/32'] });
  let nginx: Child | undefined;
  try {
    const nginxDir = fs.mkdtempSync(path.join(opts.tmpDir, 'nginx-'));
    const [httpPort, redirectPort] = [await freePort(), await freePort()];
    const args = nginxArgs(nginxDir, siteConfig(opts.root, tunnel.relayPort, httpPort, redirectPort));
    nginx = spawnChild('nginx', nginxBinary()!, args, process.env);
    await nginx.waitFor(NGINX_READY, 10_000);
    const run = (connections: number, durationSec: number) => runWrk({ url: `http://127.0.0.1:${httpPort}/small`, host: tunnel.hostname, connections, durationSec });
    log(`behind nginx: warm-up ${WARMUP_SECONDS} s`);
    await run(50, WARMUP_SECONDS);
    const levels = {} as BehindNginx['levels'];
    const relayAgentCpu = (): number => cpuSeconds(tunnel.relay.pid) + cpuSeconds(tunnel.agent.pid);
    for (const c of CONNECTION_LEVELS) {
      log(`behind nginx: small requests, ${c} connection(s), ${opts.durationSec} s`);
      const before = relayAgentCpu();
      const wrk = await run(c, opts.durationSec);
      levels[c] = { wrk, relayAgentCpuSeconds: relayAgentCpu() - before };
      log(`  ${wrk.reqPerSec.toFixed(0)} req/s, p50 ${wrk.p50Ms.toFixed(2)} ms, p99 ${wrk.p99Ms.toFixed(2)} ms${errorNote(wrk)}`);
    }
    return { levels };
  } finally {
    if (nginx) await stopChild(nginx.proc);
    await tunnel.stop();
  }
}
