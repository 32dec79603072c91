// The relay behind Debian's nginx, configured by the file the docs ship (deploy/nginx/), TLS at
// nginx: agents, HTTP, WebSocket, SSE, and the firewall seeing the real visitor address.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { WebSocket, type ClientOptions } from 'ws';
import { suiteCleanups } from '../helpers/cleanups';
import { nginxBinary, startNginx, substitute } from '../helpers/nginx';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { AGENT_BIN, portway, ROOT, RunningProcess, startRelay, tempDir } from '../helpers/processes';
import { freePortRange } from '../helpers/tcp';
import { makeCa, makeLeaf } from '../helpers/test-certs';
import { applyAgentChange } from '../helpers/tunnel-fixture';

const NGINX = nginxBinary();
// The chain is verified against the test CA; the name is not, as Node refuses a wildcard right
// under a single-label name (*.localhost) and the relay's test domain is localhost.
const TLS = { checkServerIdentity: () => undefined };

describe('relay behind nginx with deploy/nginx/portway-relay.conf (real nginx, relay, agent)', { skip: NGINX ? false : 'nginx is not installed (apt-get install nginx)' }, () => {
  const { track } = suiteCleanups();
  let origin: TestOrigin;
  let httpsPort: number;
  let hostname: string;
  let ca: string;

  /** A visitor request through nginx over TLS, from a chosen loopback address. */
  function visit(pathname: string, options: { from?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      https
        .get(
          { host: '127.0.0.1', port: httpsPort, path: pathname, servername: hostname, ca, ...TLS, localAddress: options.from, agent: false, headers: { host: hostname, ...options.headers } },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        )
        .on('error', reject);
    });
  }

  before(async () => {
    const dir = tempDir('portway-nginx-');
    const caCert = makeCa(dir);
    ca = caCert.certPem;
    const leaf = makeLeaf(dir, caCert, 'site', ['localhost', '*.localhost']);
    origin = track(await startOrigin());
    const relay = track(await startRelay({ extraArgs: ['--trusted-proxies', '127.0.0.1/32'] }));
    const ports = await freePortRange(2);
    httpsPort = ports.first + 1;
    const shipped = fs.readFileSync(path.join(ROOT, 'deploy', 'nginx', 'portway-relay.conf'), 'utf8');
    const site = substitute(shipped, [
      ['server 127.0.0.1:8080;', `server 127.0.0.1:${relay.port};`],
      ['listen [::]:80;', ''],
      ['listen [::]:443 ssl;', ''],
      ['listen 80;', `listen 127.0.0.1:${ports.first};`],
      ['listen 443 ssl;', `listen 127.0.0.1:${httpsPort} ssl;`],
      ['/etc/letsencrypt/live/tunnels.example.com/fullchain.pem', leaf.certPath],
      ['/etc/letsencrypt/live/tunnels.example.com/privkey.pem', leaf.keyPath],
      ['tunnels.example.com', 'localhost'],
    ]);
    track(await startNginx(NGINX!, dir, site));

    // The agent reaches the relay only through nginx, trusting the private CA as documented.
    const env = { NODE_EXTRA_CA_CERTS: caCert.certPath };
    const configPath = path.join(tempDir('portway-agent-'), 'config.json');
    const configured = await portway(configPath, ['configure', '--relay', `https://localhost:${httpsPort}`], env);
    assert.equal(configured.code, 0, configured.stderr);
    hostname = configured.stdout.match(/Hostname: (\S+)/)![1];
    await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)], env);
    const agent = track(new RunningProcess(spawn(process.execPath, [AGENT_BIN, '--config', configPath, 'start'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })));
    await agent.waitFor(/Relay applied the routes/);
    await applyAgentChange(agent, configPath, ['route', 'http', 'firewall', 'drop', '--domain', hostname, '--network', '127.0.0.2']);
  });

  it('HTTP passes through, and the origin learns the visitor and the https scheme', async () => {
    const answer = await visit('/echo-headers', { from: '127.0.0.3' });
    assert.equal(answer.status, 200);
    const seen = JSON.parse(answer.body) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.3, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
  });

  it('a WebSocket echoes through nginx', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/socket`, { headers: { host: hostname }, ca, servername: hostname, ...TLS } as unknown as ClientOptions);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(data.toString())));
    ws.send('ping through nginx');
    assert.equal(await echoed, 'ping through nginx');
    ws.close();
  });

  it('SSE arrives event by event (nothing buffered)', async () => {
    const received: string[] = [];
    let onEvent: () => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: httpsPort, path: '/sse', servername: hostname, ca, ...TLS, agent: false, headers: { host: hostname } }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            received.push(...chunk.split('\n\n').filter(Boolean));
            onEvent();
          });
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    for (let n = 1; n <= 3; n++) {
      const arrived = new Promise<void>((resolve) => (onEvent = () => received.length >= n && resolve()));
      origin.releaseNextEvent();
      await arrived;
      assert.deepEqual(received, Array.from({ length: n }, (_, i) => `data: event ${i + 1}`), `event ${n} arrived before the next was sent`);
    }
    await done;
  });

  it('a drop rule on the visitor’s address refuses through nginx; a forged X-Forwarded-For changes nothing', async () => {
    assert.equal((await visit('/', { from: '127.0.0.2' })).status, 403);
    assert.equal((await visit('/', { from: '127.0.0.2', headers: { 'x-forwarded-for': '127.0.0.8' } })).status, 403);
    const forged = await visit('/echo-headers', { from: '127.0.0.3', headers: { 'x-forwarded-for': '127.0.0.2' } });
    assert.equal(forged.status, 200, 'naming a dropped address does not get another visitor refused');
    assert.equal((JSON.parse(forged.body) as { headers: Record<string, string> }).headers['x-forwarded-for'], '127.0.0.3, 127.0.0.1');
  });
});
