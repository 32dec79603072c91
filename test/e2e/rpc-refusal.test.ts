import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadConfig, saveConfig } from '../../agent/src/config/config-file';
import { RuntimeAgentCore } from '../../agent/src/rpc/runtime-core';
import { RpcErrorCode } from '../../protocol/rpc';
import { configureAgent, startRelay, type RelayProcess } from '../helpers/processes';

const KEY = 'a-relay-auth-key-that-is-long-enough-0123';

/** The extension learns why the relay said no, as a code it can turn into a next step. */
describe('relay refusals reach the extension core as coded states (real relay)', () => {
  let relay: RelayProcess | undefined;
  let core: RuntimeAgentCore | undefined;
  after(async () => {
    await core?.dispose();
    await relay?.stop();
  });

  it('a token the relay no longer accepts leaves the tunnel offline with code Unauthorized', async () => {
    relay = await startRelay({ authKey: KEY });
    const { configPath } = await configureAgent(relay, { token: KEY });
    const config = loadConfig(configPath);
    config.relay.token = 'not-the-key-any-more';
    saveConfig(configPath, config);
    core = new RuntimeAgentCore(configPath);
    const status = await core.start({});
    assert.equal(status.state, 'offline');
    assert.equal(status.errorCode, RpcErrorCode.Unauthorized);
    assert.match(status.reason ?? '', /refused/);
  });
});
