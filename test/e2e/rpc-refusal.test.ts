import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadConfig, saveConfig } from '../../agent/src/config/config-file';
import { ConfigBackedCore } from '../../agent/src/rpc/config-backed-core';
import { RpcErrorCode } from '../../protocol/rpc';
import { configureAgent, startAgent, startRelay, type RelayProcess, type RunningProcess } from '../helpers/processes';

const KEY = 'a-relay-auth-key-that-is-long-enough-0123';

/** The extension learns why the relay said no, as a code it can turn into a next step. */
describe('relay refusals reach the extension core as coded states (real relay)', () => {
  let relay: RelayProcess | undefined;
  let core: ConfigBackedCore | undefined;
  let other: RunningProcess | undefined;
  after(async () => {
    await core?.dispose();
    await other?.stop();
    await relay?.stop();
  });

  it('a token the relay no longer accepts leaves the tunnel offline with code Unauthorized', async () => {
    relay = await startRelay({ authKey: KEY });
    const { configPath } = await configureAgent(relay, { token: KEY });
    const config = loadConfig(configPath);
    config.relay.token = 'not-the-key-any-more';
    saveConfig(configPath, config);
    core = new ConfigBackedCore(configPath);
    const status = await core.start({});
    assert.equal(status.state, 'offline');
    assert.equal(status.errorCode, RpcErrorCode.Unauthorized);
    assert.match(status.reason ?? '', /refused/);
  });

  it('another agent of the same identity taking over leaves the tunnel offline with code Replaced, and start takes it back', async () => {
    relay ??= await startRelay({ authKey: KEY });
    const { configPath } = await configureAgent(relay, { token: KEY });
    await core?.dispose();
    core = new ConfigBackedCore(configPath);
    assert.equal((await core.start({})).state, 'online');
    const replaced = new Promise<void>((resolve) => {
      const subscription = core!.onEvent((event) => {
        if (event.type === 'state' && event.status.errorCode === RpcErrorCode.Replaced) {
          subscription.dispose();
          resolve();
        }
      });
    });
    other = startAgent(configPath); // e.g. a second VS Code window, or `portway start` on the same config
    await other.waitFor(/Connected to/);
    await replaced;
    assert.equal(core.status().state, 'offline');
    assert.match(core.status().reason ?? '', /took over the tunnel/);
    assert.equal((await core.start({})).state, 'online', 'starting again takes the tunnel back');
    assert.equal(await other.exited, 1, 'and the other agent stops');
  });
});
