/**
 * `npm start`: the whole thing on one machine. Starts a relay (domain "localhost", port 8080
 * or $PORT) and an agent, shares a local port (the first argument, or a built-in demo page),
 * and prints the public URL. *.localhost resolves to this machine in browsers and curl.
 * State lives in .portway-demo/ so the hostname stays the same between runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { withMallocTunables } from '../common/malloc-tunables';

const root = path.resolve(__dirname, '..', '..');
const stateDir = path.join(root, '.portway-demo');
const relayPort = Number(process.env.PORT ?? 8080);
const sharedArg = process.argv[2];
const children: ChildProcess[] = [];

function fail(message: string): never {
  console.error(`portway demo: ${message}`);
  for (const child of children) child.kill();
  process.exit(1);
}

function startDemoOrigin(): Promise<number> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Portway demo</title><h1>Hello through Portway</h1><p>You asked for ${req.url} via ${req.headers['x-forwarded-host']}.</p>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpMatchArray> {
  return new Promise((resolve) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.match(pattern);
      if (match) resolve(match);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => process.stderr.write(c));
    child.on('exit', (code) => fail(`${what} exited (${code}) before it was ready:\n${seen}`));
  });
}

function portwayCli(args: string[]): string {
  const result = spawnSync(process.execPath, [path.join(root, 'agent', 'bin', 'portway.js'), '--config', path.join(stateDir, 'agent.json'), ...args], { encoding: 'utf8' });
  if (result.status !== 0) fail(`portway ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

async function main(): Promise<void> {
  if (sharedArg !== undefined && !/^\d+$/.test(sharedArg)) fail(`usage: npm start [-- LOCAL_PORT] (got "${sharedArg}")`);
  const localPort = sharedArg ? Number(sharedArg) : await startDemoOrigin();

  const relay = spawn(process.execPath, [path.join(root, 'relay', 'bin', 'portway-relay.js'), '--domain', 'localhost', '--host', '127.0.0.1', '--port', String(relayPort), '--data-dir', path.join(stateDir, 'relay')], { stdio: ['ignore', 'pipe', 'pipe'], env: withMallocTunables(process.env) });
  children.push(relay);
  await waitForLine(relay, /listening on (\S+)/, 'the relay');

  const configured = portwayCli(['configure', '--relay', `http://127.0.0.1:${relayPort}`]);
  const hostname = configured.match(/Hostname: (\S+)/)?.[1] ?? fail('configure printed no hostname');
  portwayCli(['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(localPort)]);

  const agent = spawn(process.execPath, [path.join(root, 'agent', 'bin', 'portway.js'), '--config', path.join(stateDir, 'agent.json'), 'start'], { stdio: ['ignore', 'pipe', 'pipe'], env: withMallocTunables(process.env) });
  children.push(agent);
  await waitForLine(agent, /Connected to/, 'the agent');

  const url = `http://${hostname}:${relayPort}/`;
  console.log(`\nSharing 127.0.0.1:${localPort}${sharedArg ? '' : ' (built-in demo page)'} at:\n\n    ${url}\n`);
  console.log(`Try:  curl ${url}    (or: curl -H 'Host: ${hostname}' http://127.0.0.1:${relayPort}/)`);
  console.log('Press Ctrl+C to stop.');
  const stop = () => {
    for (const child of children) child.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => fail(err.message));
