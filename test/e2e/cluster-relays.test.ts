// Three relays sharing state in a real redis-server, behind Debian's nginx (deploy/nginx/
// portway-cluster.conf, round-robin for visitors and agents): every relay answers for every tunnel,
// a token revoked through Redis closes its session wherever it is held, and a relay killed with -9
// heals within 10 s (its agents reconnect through nginx to the others, which take the leases over).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { suiteCleanups } from '../helpers/cleanups';
import { nginxBinary, startNginx, substitute } from '../helpers/nginx';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { AGENT_BIN, configureAgent, portway, RELAY_BIN, ROOT, RunningProcess, startRelay, tempDir, type RelayProcess } from '../helpers/processes';
import { redisBinary, startRedis } from '../helpers/redis';
import { freePortRange } from '../helpers/tcp';

const NGINX = nginxBinary();
const REDIS = redisBinary();
const AGENTS = 20;
const AGENT_START_BATCH = 5;
const SECRET = 'cluster-secret-for-tests-0123456789abcdef';

interface Answer {
  status: number;
  body: string;
}

/** One request to `port` with the tunnel's Host header, on a fresh connection. */
function visit(port: number, host: string, pathname = '/echo-headers', from = '127.0.0.1', body?: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method: body ? 'POST' : 'GET', localAddress: from, agent: false, headers: { ...headers, host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Whether a relay holds a tunnel now: its log says the agent came online more often than it went offline. */
function holds(relay: RelayProcess, hostname: string): boolean {
  const count = (word: string) => relay.lines.filter((line) => line.includes(`agent ${word}: ${hostname} `)).length;
  return relay.child.exitCode === null && relay.child.signalCode === null && count('online') > count('offline');
}

function tokenCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RELAY_BIN, 'token', ...args], (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('three relays on Redis behind nginx (real redis-server, nginx, relays, agents)', { skip: !NGINX || !REDIS ? 'needs nginx and redis-server (apt-get install nginx-light redis-server)' : false }, () => {
  const { track } = suiteCleanups();
  const relays: RelayProcess[] = [];
  const agents = new Map<string, RunningProcess>();
  let origin: TestOrigin;
  let lbPort: number;
  let leaverHostname: string;
  let redisUrl: string;

  async function startTunnel(lbUrl: string, token: string): Promise<string> {
    const { configPath, hostname } = await configureAgent({ url: lbUrl }, { token });
    const added = await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    assert.equal(added.code, 0, added.stderr);
    const agent = track(new RunningProcess(spawn(process.execPath, [AGENT_BIN, '--config', configPath, 'start'], { stdio: ['ignore', 'pipe', 'pipe'] })));
    await agent.waitFor(/Relay applied the routes/);
    agents.set(hostname, agent);
    return hostname;
  }

  before(async () => {
    origin = track(await startOrigin());
    const redis = track(await startRedis(REDIS!));
    redisUrl = redis.url;
    const cluster = ['--redis', redis.url, '--cluster-secret', SECRET, '--cluster-host', '127.0.0.1', '--cluster-port', '0', '--trusted-proxies', '127.0.0.1/32', '--cluster-lease-ms', '3000', '--admin-port', '0'];
    relays.push(...(await Promise.all([0, 1, 2].map(async () => track(await startRelay({ extraArgs: cluster }))))));
    lbPort = (await freePortRange(1)).first;
    const shipped = fs.readFileSync(path.join(ROOT, 'deploy', 'nginx', 'portway-cluster.conf'), 'utf8');
    const site = substitute(shipped, [
      ['relay-a:8080', `127.0.0.1:${relays[0].port}`],
      ['relay-b:8080', `127.0.0.1:${relays[1].port}`],
      ['relay-c:8080', `127.0.0.1:${relays[2].port}`],
      ['listen 80;', `listen 127.0.0.1:${lbPort};`],
      ['tunnels.example.com', 'localhost'],
    ]);
    track(await startNginx(NGINX!, tempDir('portway-lb-'), site));
    const team = await tokenCli(['create', '--name', 'team', '--redis', redis.url]);
    assert.equal(team.code, 0, team.stderr);
    const leaver = await tokenCli(['create', '--name', 'leaver', '--redis', redis.url]);
    const lbUrl = `http://127.0.0.1:${lbPort}`;
    // A few agents at a time: each is three short CLI runs and a process, on a small shared machine.
    const starts = Array.from({ length: AGENTS }, () => () => startTunnel(lbUrl, team.stdout.trim()));
    for (let i = 0; i < starts.length; i += AGENT_START_BATCH) await Promise.all(starts.slice(i, i + AGENT_START_BATCH).map((start) => start()));
    leaverHostname = await startTunnel(lbUrl, leaver.stdout.trim());
  });

  it('the tunnels are spread over the relays, and every relay answers 200 for every tunnel', async () => {
    const held = relays.map((relay) => [...agents.keys()].filter((hostname) => holds(relay, hostname)).length);
    assert.ok(held.filter((count) => count > 0).length >= 2, `sessions spread over the relays (${held.join(', ')})`);
    let visits = 0;
    for (const hostname of agents.keys()) {
      for (const relay of relays) {
        // Visitors from two addresses take turns on the relays' pooled connections to the owner.
        const from = `127.0.0.${3 + (visits++ % 2)}`;
        const answer = await visit(relay.port, hostname, '/echo-headers', from);
        assert.equal(answer.status, 200, `${hostname} through relay ${relay.port}: ${answer.body.slice(0, 200)}`);
        // The owner's agent sees the visitor, not the relay that forwarded it.
        assert.match((JSON.parse(answer.body) as { headers: Record<string, string> }).headers['x-forwarded-for'], new RegExp(`^${from.replace(/\./g, '\\.')}(,|$)`));
      }
      assert.equal((await visit(lbPort, hostname)).status, 200, `${hostname} through nginx`);
    }
  });

  it('a large upload, a download and a WebSocket pass through a relay that does not hold the tunnel', async () => {
    const hostname = [...agents.keys()][0];
    const owner = relays.find((relay) => holds(relay, hostname))!;
    const other = relays.find((relay) => relay !== owner)!;
    const upload = Buffer.alloc(8 * 1024 * 1024, 7);
    const stored = JSON.parse((await visit(other.port, hostname, '/upload', '127.0.0.1', upload)).body) as { size: number };
    assert.equal(stored.size, upload.length);
    const download = await visit(other.port, hostname, `/big?bytes=${4 * 1024 * 1024}`);
    assert.equal(download.status, 200);
    assert.equal(Buffer.byteLength(download.body, 'latin1') > 0, true);
    const ws = new WebSocket(`ws://127.0.0.1:${other.port}/socket`, { headers: { host: hostname } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(data.toString())));
    ws.send('hello via a peer relay');
    assert.equal(await echoed, 'hello via a peer relay');
    ws.close();
    // A visitor naming another client in the cluster's own header is not believed.
    const forged = await visit(other.port, hostname, '/echo-headers', '127.0.0.5', undefined, { 'x-portway-cluster-client': '10.9.9.9' });
    assert.match((JSON.parse(forged.body) as { headers: Record<string, string> }).headers['x-forwarded-for'], /^127\.0\.0\.5(,|$)/);
    const adminPort = Number((await other.waitFor(/admin listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    const metrics = (await visit(adminPort, '127.0.0.1', '/metrics')).body;
    assert.ok(Number(/^portway_cluster_forwarded_requests_total (\d+)/m.exec(metrics)?.[1]) >= 3, 'the forwards are counted');
  });

  it('a token revoked through Redis closes its session on whichever relay holds it', async () => {
    const holder = relays.find((relay) => holds(relay, leaverHostname))!;
    const closed = holder.waitFor(new RegExp(`closing ${leaverHostname.replace(/\./g, '\\.')}: token \\S+ was revoked`));
    const revoked = await tokenCli(['revoke', 'leaver', '--redis', redisUrl]);
    assert.equal(revoked.code, 0, revoked.stderr);
    await closed;
    agents.delete(leaverHostname);
  });

  it('kill -9 of the relay holding the most tunnels: every tunnel answers through nginx again within 10 s', async () => {
    const holding = relays.map((relay) => [...agents.keys()].filter((h) => holds(relay, h)).length);
    const victim = relays[holding.indexOf(Math.max(...holding))];
    const moved = [...agents.keys()].filter((h) => holds(victim, h));
    const from = new Map(moved.map((h) => [h, agents.get(h)!.lines.length]));
    const killedAt = Date.now();
    await victim.stop('SIGKILL');
    await Promise.all(moved.map((h) => agents.get(h)!.waitFor(/Relay applied the routes/, 15_000, from.get(h))));
    // Every tunnel through the load balancer; a request refused during the switch-over is asked again.
    for (const hostname of agents.keys()) {
      let answer = await visit(lbPort, hostname);
      while (answer.status !== 200 && Date.now() - killedAt < 15_000) answer = await visit(lbPort, hostname);
      assert.equal(answer.status, 200, `${hostname} after the kill: ${answer.body.slice(0, 200)}`);
    }
    const recoveryMs = Date.now() - killedAt;
    console.log(`cluster recovery after kill -9 of a relay holding ${moved.length} of ${agents.size} tunnels: ${recoveryMs} ms`);
    assert.ok(recoveryMs <= 10_000, `recovered in ${recoveryMs} ms`);
  });
});
