import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { patternDigest } from '../helpers/origin';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from '../helpers/processes';
import { freePortRange, startBannerService, startEchoService, streamThrough, tcpExchange, type EchoService } from '../helpers/tcp';

const HUNDRED_MIB = 100 * 1024 * 1024;

describe('TCP ports: allocate, forward, firewall, release (real processes on loopback)', () => {
  let range: { first: number; last: number; flag: string };
  let relay: RelayProcess;
  let echo: EchoService;
  let banner: { port: number; close(): Promise<void> };
  let agentA: RunningProcess;
  let agentB: RunningProcess | undefined;
  let configA: string;
  let configB: string;
  /** The port agent A allocates and forwards to the echo service. */
  let port: number;

  const relayArgs = () => ['--tcp-ports', range.flag];

  before(async () => {
    range = await freePortRange(20);
    echo = await startEchoService();
    banner = await startBannerService('this is agent B');
    relay = await startRelay({ extraArgs: relayArgs() });
    ({ configPath: configA } = await configureAgent(relay));
    ({ configPath: configB } = await configureAgent(relay));
  });
  after(async () => {
    await agentA?.stop();
    await agentB?.stop();
    await relay?.stop();
    await echo?.close();
    await banner?.close();
  });

  /**
   * Waits for the relay's answer to the announcement the agent made on reloading its config (the
   * first reload at or after line `from`), not for the answer to any earlier announcement.
   */
  async function waitForReloadApplied(agent: RunningProcess, from: number): Promise<void> {
    await agent.waitFor(/routes reloaded/, 10_000, from);
    const reloadedAt = agent.lines.findIndex((line, i) => i >= from && /routes reloaded/.test(line));
    await agent.waitFor(/Relay applied the routes/, 10_000, reloadedAt + 1);
  }

  /** Runs a CLI change and waits until the running agent has reloaded it and the relay applied it. */
  async function change(agent: RunningProcess, configPath: string, args: string[]): Promise<string> {
    const from = agent.lines.length;
    const result = await portway(configPath, args);
    assert.equal(result.code, 0, result.stderr);
    await waitForReloadApplied(agent, from);
    return result.stdout;
  }

  it('allocate prints the port, from the relay range, and records it', async () => {
    const result = await portway(configA, ['route', 'tcp', 'allocate']);
    assert.equal(result.code, 0, result.stderr);
    port = Number(result.stdout.match(/^Allocated port (\d+)$/m)?.[1]);
    assert.ok(port >= range.first && port <= range.last, `port ${port} in ${range.flag}`);
    const forward = await portway(configA, ['route', 'tcp', 'forward', '--port', String(port), '--destination', '127.0.0.1', '--dstport', String(echo.port)]);
    assert.equal(forward.code, 0, forward.stderr);
    assert.match(forward.stdout, new RegExp(`Forwarding port ${port} to 127\\.0\\.0\\.1:${echo.port}`));
    const listed = JSON.parse((await portway(configA, ['route', 'tcp', 'ls', '--json'])).stdout);
    assert.deepEqual(listed, [{ port, destination: '127.0.0.1', dstport: echo.port, firewall: [] }]);
  });

  it('the relay listens only while the agent is connected; start lists the port', async () => {
    assert.equal((await tcpExchange(port, 'early')).errorCode, 'ECONNREFUSED', 'no listener before the agent connects');
    const listening = relay.lines.length;
    agentA = startAgent(configA);
    await agentA.waitFor(/Connected to/);
    await agentA.waitFor(/Relay applied the routes/);
    await relay.waitFor(new RegExp(`tcp port ${port}: listening`), 10_000, listening);
    assert.ok(agentA.lines.some((line) => line.includes(`| ${port} `) && line.includes(`127.0.0.1:${echo.port}`)), agentA.lines.join('\n'));
    const { received } = await tcpExchange(port, 'hello over tcp');
    assert.equal(received.toString(), 'hello over tcp');
  });

  it('carries 100 MiB both ways through the echo service, checksums equal, half-close honoured', async () => {
    const { size, sha256 } = await streamThrough(port, HUNDRED_MIB);
    assert.equal(size, HUNDRED_MIB);
    assert.equal(sha256, patternDigest(HUNDRED_MIB));
  });

  it('firewall drop closes the connection at once: no byte back, the destination never sees it', async () => {
    await change(agentA, configA, ['route', 'tcp', 'firewall', 'drop', '--port', String(port), '--network', '127.0.0.2']);
    const before = echo.connections;
    const dropped = await tcpExchange(port, 'let me in', '127.0.0.2');
    assert.equal(dropped.received.length, 0);
    assert.equal(echo.connections, before, 'the dropped client never reached the destination');
    assert.equal((await tcpExchange(port, 'other client', '127.0.0.3')).received.toString(), 'other client');
    assert.equal(echo.connections, before + 1);
  });

  it('firewall allow-only admits the listed network alone; rules list and remove', async () => {
    await change(agentA, configA, ['route', 'tcp', 'firewall', 'rm', '--port', String(port), '--network', '127.0.0.2']);
    await change(agentA, configA, ['route', 'tcp', 'firewall', 'allow', '--port', String(port), '--network', '127.0.0.4/31']);
    const rules = JSON.parse((await portway(configA, ['route', 'tcp', 'firewall', 'ls', '--port', String(port), '--json'])).stdout);
    assert.deepEqual(rules, [{ action: 'allow', network: '127.0.0.4/31' }]);
    const table: [string, boolean][] = [
      ['127.0.0.3', false],
      ['127.0.0.4', true],
      ['127.0.0.5', true],
      ['127.0.0.6', false],
    ];
    for (const [address, admitted] of table) {
      const { received } = await tcpExchange(port, `from ${address}`, address);
      assert.equal(received.toString(), admitted ? `from ${address}` : '', address);
    }
    await change(agentA, configA, ['route', 'tcp', 'firewall', 'rm', '--port', String(port), '--network', '127.0.0.4/31']);
    assert.equal((await tcpExchange(port, 'open again', '127.0.0.3')).received.toString(), 'open again');
  });

  it('an allocated port without a forward closes its connections', async () => {
    const result = await portway(configA, ['route', 'tcp', 'allocate']);
    assert.equal(result.code, 0, result.stderr);
    const bare = Number(result.stdout.match(/^Allocated port (\d+)$/m)?.[1]);
    assert.notEqual(bare, port);
    await agentA.waitFor(/routes reloaded/);
    await relay.waitFor(new RegExp(`tcp port ${bare}: listening`));
    const before = echo.connections;
    const { received, errorCode } = await tcpExchange(bare, 'anyone?');
    assert.equal(received.length, 0, `closed (${errorCode ?? 'clean'})`);
    assert.equal(echo.connections, before);
    assert.equal((await portway(configA, ['route', 'tcp', 'release', '--port', String(bare)])).code, 0);
  });

  it('a second agent can neither take, forward nor receive the first one\'s port', async () => {
    const forward = await portway(configB, ['route', 'tcp', 'forward', '--port', String(port), '--dstport', String(banner.port)]);
    assert.equal(forward.code, 2);
    assert.match(forward.stderr, new RegExp(`port ${port} is not allocated to this agent`));
    const take = await portway(configB, ['route', 'tcp', 'allocate', '--port', String(port)]);
    assert.equal(take.code, 1);
    assert.match(take.stderr, /allocated to another agent/);
    const release = await portway(configB, ['route', 'tcp', 'release', '--port', String(port)]);
    assert.equal(release.code, 2);
    assert.match(release.stderr, /not allocated to this agent/);

    // Even a hand-edited config does not make the relay send A's traffic to B.
    const config = JSON.parse(fs.readFileSync(configB, 'utf8'));
    config.tcp = [{ port, destination: '127.0.0.1', dstport: banner.port, firewall: [] }];
    fs.writeFileSync(configB, JSON.stringify(config));
    agentB = startAgent(configB);
    await agentB.waitFor(new RegExp(`the relay refused tcp ${port}: this agent has not allocated that port`));
    assert.equal((await tcpExchange(port, 'still A')).received.toString(), 'still A');
  });

  it('keeps the port across an agent restart (closed while it is offline)', async () => {
    const closedFrom = relay.lines.length;
    await agentA.stop();
    await relay.waitFor(new RegExp(`tcp port ${port}: closed`), 10_000, closedFrom);
    assert.equal((await tcpExchange(port, 'offline')).errorCode, 'ECONNREFUSED');
    const listeningFrom = relay.lines.length;
    agentA = startAgent(configA);
    await agentA.waitFor(/Relay applied the routes/);
    await relay.waitFor(new RegExp(`tcp port ${port}: listening`), 10_000, listeningFrom);
    assert.equal((await tcpExchange(port, 'after agent restart')).received.toString(), 'after agent restart');
  });

  it('keeps the port across a relay kill and restart (same data dir and port)', async () => {
    const { dataDir, port: relayPort } = relay;
    assert.ok(agentB);
    const lostFromA = agentA.lines.length;
    const lostFromB = agentB.lines.length;
    await relay.stop('SIGKILL');
    await agentA.waitFor(/Disconnected: /, 15_000, lostFromA);
    await agentB.waitFor(/Disconnected: /, 15_000, lostFromB);
    const reconnectFromA = agentA.lines.length;
    const reconnectFromB = agentB.lines.length;
    relay = await startRelay({ dataDir, port: relayPort, extraArgs: relayArgs() });
    await agentA.waitFor(/Relay applied the routes/, 40_000, reconnectFromA);
    // B is connected to this relay too: its reconnect (and the answer to its announcement) must be
    // over before a later test reads B's output, or that answer passes for one of a later change.
    await agentB.waitFor(/Relay applied the routes/, 40_000, reconnectFromB);
    await relay.waitFor(new RegExp(`tcp port ${port}: listening`));
    assert.equal((await tcpExchange(port, 'after relay restart')).received.toString(), 'after relay restart');
  });

  it('release frees the port: connections refused, the config forgets it, another agent can allocate it', async () => {
    const closedFrom = relay.lines.length;
    const result = await portway(configA, ['route', 'tcp', 'release', '--port', String(port)]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`Released port ${port}`));
    await relay.waitFor(new RegExp(`tcp port ${port}: closed`), 10_000, closedFrom);
    assert.equal((await tcpExchange(port, 'gone')).errorCode, 'ECONNREFUSED');
    assert.deepEqual(JSON.parse((await portway(configA, ['route', 'tcp', 'ls', '--json'])).stdout), []);

    // B (still running with its hand-edited forward) takes the port over; now it receives.
    assert.ok(agentB);
    const from = agentB.lines.length;
    const take = await portway(configB, ['route', 'tcp', 'allocate', '--port', String(port)]);
    assert.equal(take.code, 0, take.stderr);
    assert.match(take.stdout, new RegExp(`^Allocated port ${port}$`, 'm'));
    await waitForReloadApplied(agentB, from);
    assert.equal((await tcpExchange(port, '')).received.toString(), 'this is agent B');
  });

  it('bad input: a clear message and exit code 2', async () => {
    const allocated = await portway(configA, ['route', 'tcp', 'allocate']);
    const held = Number(allocated.stdout.match(/^Allocated port (\d+)$/m)?.[1]);
    assert.ok(held > 0, allocated.stderr);
    const cases: [string[], RegExp][] = [
      [['route', 'tcp', 'forward', '--port', '70000', '--dstport', '22'], /--port must be a port number from 1 to 65535/],
      [['route', 'tcp', 'forward', '--port', String(range.last), '--dstport', '22'], /not allocated to this agent/],
      [['route', 'tcp', 'forward', '--port', String(held), '--dstport', '22', '--destination', 'not a host!'], /not an IP address or host name/],
      [['route', 'tcp', 'forward', '--port', String(held)], /--dstport is required/],
      [['route', 'tcp', 'allocate', '--port', String(range.first - 1)], /outside this relay's range/],
      [['route', 'tcp', 'release', '--port', String(range.last)], /not allocated to this agent/],
      [['route', 'tcp', 'firewall', 'drop', '--port', String(held), '--network', '300.1.1.1'], /300\.1\.1\.1/],
      [['route', 'tcp', 'firewall', 'allow', '--port', String(range.last), '--network', '10.0.0.0/8'], /not allocated to this agent/],
    ];
    for (const [args, message] of cases) {
      const result = await portway(configA, args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
    }
  });
});
