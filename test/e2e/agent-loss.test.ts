// What a visitor sees when the agent dies under it (SIGKILL: no goodbye, as after a crash or a
// laptop lid closing): every request gets an answer, never a hang. Real relay, real agent,
// real keep-alive connections on loopback.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { configureAgent, portway, startAgent, startRelay, type RelayProcess, type RunningProcess } from '../helpers/processes';

/** No request in these tests may take longer: a hang fails with a message saying which one. */
const ANSWER_WITHIN_MS = 8_000;

/** An origin whose /hold requests wait until the test lets them go (or never). */
async function startHoldingOrigin(): Promise<{ port: number; held: Promise<void>; close(): Promise<void> }> {
  let heldOne!: () => void;
  const held = new Promise<void>((resolve) => (heldOne = resolve));
  const server = http.createServer((req, res) => {
    if (req.url === '/hold') return void heldOne(); // never answered: the agent dies first
    res.end(`ok ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    held,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('agent killed under live traffic (real processes on loopback)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function sharedOrigin(): Promise<{ relay: RelayProcess; configPath: string; hostname: string; agent: RunningProcess; origin: Awaited<ReturnType<typeof startHoldingOrigin>> }> {
    const origin = await startHoldingOrigin();
    cleanups.push(() => origin.close());
    const relay = await startRelay();
    cleanups.push(() => relay.stop());
    const { configPath, hostname } = await configureAgent(relay);
    await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    const agent = startAgent(configPath);
    cleanups.push(() => agent.stop());
    await agent.waitFor(/Connected to/);
    return { relay, configPath, hostname, agent, origin };
  }

  it('answers a request in flight with 502 when the agent dies before the origin answers', async () => {
    const { relay, hostname, agent, origin } = await sharedOrigin();
    const inFlight = request(relay.port, hostname, { path: '/hold', timeoutMs: ANSWER_WITHIN_MS });
    await origin.held; // the request has crossed relay and agent and waits at the origin
    await agent.stop('SIGKILL');
    const res = await inFlight;
    assert.equal(res.status, 502);
    assert.match(res.body.toString(), /Tunnel connection lost/);
    assert.equal(res.headers.connection, 'close');
  });

  it('answers on a kept-alive visitor connection after the agent died, and again once a new agent is back', async () => {
    const { relay, configPath, hostname, agent } = await sharedOrigin();
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(async () => keepAlive.destroy());
    const first = await request(relay.port, hostname, { path: '/one', agent: keepAlive, timeoutMs: ANSWER_WITHIN_MS });
    assert.equal(first.body.toString(), 'ok /one');

    const offlineFrom = relay.lines.length;
    await agent.stop('SIGKILL');
    await relay.waitFor(/agent offline: /, 10_000, offlineFrom);
    const whileDown = await request(relay.port, hostname, { path: '/two', agent: keepAlive, timeoutMs: ANSWER_WITHIN_MS });
    assert.equal(whileDown.status, 502);

    const second = startAgent(configPath);
    cleanups.push(() => second.stop());
    await second.waitFor(/Connected to/);
    const back = await request(relay.port, hostname, { path: '/three', agent: keepAlive, timeoutMs: ANSWER_WITHIN_MS });
    assert.equal(back.body.toString(), 'ok /three');
  });

  it('answers every request sent while the agent is killed and restarted, over and over', { timeout: 90_000 }, async () => {
    const { relay, configPath, hostname } = await sharedOrigin();
    let agent: RunningProcess | undefined;
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });
    cleanups.push(async () => keepAlive.destroy());
    let stop = false;
    const statuses = new Map<number, number>();
    let served = 0;
    let onServed: (() => void) | undefined;
    // Four visitors keep requesting, on kept-alive connections, for the whole test.
    const visitors = Promise.all(
      [0, 1, 2, 3].map(async (n) => {
        for (let i = 0; !stop; i++) {
          const res = await request(relay.port, hostname, { path: `/v${n}-${i}`, agent: keepAlive, timeoutMs: ANSWER_WITHIN_MS }).catch((err: Error) => {
            // A kept-alive connection the relay closed as we reused it: the client's own retry case.
            if (/ECONNRESET|socket hang up/.test(err.message)) return undefined;
            throw err;
          });
          if (!res) continue;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 200) served++;
          onServed?.();
        }
      }),
    );
    // Resolves once `count` requests were served; rejects as soon as a visitor fails (a hang included).
    const servedAtLeast = (count: number): Promise<void> =>
      Promise.race([
        new Promise<void>((resolve) => {
          onServed = () => served >= count && resolve();
          onServed();
        }),
        visitors.then(() => new Promise<void>(() => undefined)),
      ]);
    for (let round = 0; round < 5; round++) {
      await agent?.stop('SIGKILL');
      const from = relay.lines.length;
      agent = startAgent(configPath);
      const current = agent;
      cleanups.push(() => current.stop());
      await relay.waitFor(/agent online: /, 15_000, from);
      await servedAtLeast(served + 20); // the new agent serves the visitors
    }
    stop = true;
    await visitors;
    assert.ok(served >= 100, `served: ${JSON.stringify([...statuses])}`);
    for (const status of statuses.keys()) assert.ok(status === 200 || status === 502, `unexpected status ${status}: ${JSON.stringify([...statuses])}`);
  });
});
