/** A route the relay refuses reaches the extension (RPC mode) as a visible error on that route. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadConfig, saveConfig } from '../../agent/src/config/config-file';
import { ConfigBackedCore } from '../../agent/src/rpc/config-backed-core';
import type { RouteList } from '../../protocol/rpc';
import { configureAgent, startRelay, type RelayProcess } from '../helpers/processes';

describe('relay route rejections on the RPC route views (real relay)', () => {
  let relay: RelayProcess | undefined;
  let core: ConfigBackedCore | undefined;
  after(async () => {
    await core?.dispose();
    await relay?.stop();
  });

  it('a domain this agent may not use is marked rejected with the relay\'s reason; its own route is not', async () => {
    relay = await startRelay();
    const { configPath, hostname } = await configureAgent(relay);
    // Written by hand (the front ends refuse such a domain), as an old or edited config could hold it.
    const config = loadConfig(configPath);
    config.http.push({ domain: hostname, destination: '127.0.0.1', http: 9, hostRewrite: true, firewall: [] });
    config.http.push({ domain: 'someone-else.example.org', destination: '127.0.0.1', http: 9, hostRewrite: true, firewall: [] });
    saveConfig(configPath, config);
    core = new ConfigBackedCore(configPath);
    const marked = new Promise<RouteList>((resolve) => {
      const subscription = core!.onEvent((event) => {
        if (event.type === 'routes' && event.routes.http.some((r) => r.rejected !== undefined)) {
          subscription.dispose();
          resolve(event.routes);
        }
      });
    });
    assert.equal((await core.start({})).state, 'online');
    const routes = await marked;
    assert.deepEqual(
      routes.http.map((r) => [r.domain, r.rejected]),
      [
        [hostname, undefined],
        ['someone-else.example.org', 'this agent may not use that domain'],
      ],
    );
    assert.deepEqual((await core.listRoutes()).http.map((r) => r.rejected), [undefined, 'this agent may not use that domain'], 'route/list says the same');
    await core.stop();
    assert.deepEqual((await core.listRoutes()).http.map((r) => r.rejected), [undefined, undefined], 'stopped: nothing is refused any more');
  });
});
