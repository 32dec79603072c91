// A dev server bound to ::1 only (as many bind "localhost"), shared without naming an address:
// from the extension's RPC (`route/add` with no destination), with `portway http PORT`, and with
// `portway http PORT --destination localhost`. Real relay and agent processes on loopback.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ConfigBackedCore } from '../../agent/src/rpc/config-backed-core';
import { resolveLocalDestination } from '../../agent/src/runtime/loopback-destination';
import { suiteCleanups } from '../helpers/cleanups';
import { request } from '../helpers/http-client';
import { listenOnIpv6LoopbackOnly } from '../helpers/ipv6-loopback-only';
import { AGENT_BIN, RunningProcess, configureAgent, startRelay, type RelayProcess } from '../helpers/processes';

async function originOn(host: '::1' | '127.0.0.1', text: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end(text));
  // A ::1 origin gets a port free on 127.0.0.1 too, or another process there would be "the loopback that listens".
  if (host === '::1') await listenOnIpv6LoopbackOnly(server);
  else await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const probe = await originOn('127.0.0.1', '');
  await probe.close();
  return probe.port;
}

describe('sharing a port that listens on ::1 only', () => {
  const { track } = suiteCleanups();
  let relay: RelayProcess;
  const relayOnce = async (): Promise<RelayProcess> => (relay ??= track(await startRelay()));

  it('the default destination is whichever loopback listens; neither: localhost, tried both ways later', async () => {
    const v6 = track(await originOn('::1', 'six'));
    const v4 = track(await originOn('127.0.0.1', 'four'));
    assert.deepEqual(await resolveLocalDestination(undefined, v6.port), { destination: '::1', listening: true });
    assert.deepEqual(await resolveLocalDestination('localhost', v6.port), { destination: '::1', listening: true });
    assert.deepEqual(await resolveLocalDestination(undefined, v4.port), { destination: '127.0.0.1', listening: true });
    assert.deepEqual(await resolveLocalDestination('127.0.0.1', v6.port), { destination: '127.0.0.1', listening: false }, 'a named address is kept');
    assert.deepEqual(await resolveLocalDestination(undefined, await closedPort()), { destination: 'localhost', listening: false });
  });

  it('route/add without a destination proxies to ::1, and visitors get the page', async () => {
    const relay = await relayOnce();
    const origin = track(await originOn('::1', 'hello from ::1'));
    const { configPath, hostname } = await configureAgent(relay);
    const core = new ConfigBackedCore(configPath);
    try {
      const route = await core.addHttpRoute({ httpPort: origin.port });
      assert.equal(route.destination, '::1');
      const status = await core.start({ waitForOnline: true });
      assert.equal(status.state, 'online');
      const res = await request(relay.port, hostname, { timeoutMs: 10_000 });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'hello from ::1');
    } finally {
      await core.dispose();
    }
  });

  for (const extra of [[], ['--destination', 'localhost']]) {
    it(`portway http PORT${extra.map((a) => ` ${a}`).join('')} reaches it`, async () => {
      const relay = await relayOnce();
      const origin = track(await originOn('::1', 'cli via ::1'));
      const { configPath, hostname } = await configureAgent(relay);
      const share = track(new RunningProcess(spawn(process.execPath, [AGENT_BIN, '--config', configPath, 'http', String(origin.port), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })));
      await share.waitFor(new RegExp(`Forwarding \\S+ -> http://\\[::1\\]:${origin.port}`));
      const res = await request(relay.port, hostname, { timeoutMs: 10_000 });
      assert.equal(res.body.toString(), 'cli via ::1');
      await share.stop();
    });
  }
});
