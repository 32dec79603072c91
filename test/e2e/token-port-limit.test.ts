import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { configureAgent, portway, startRelay, tempDir, type RelayProcess } from '../helpers/processes';
import { createToken } from '../helpers/relay-cli';

describe('per-token TCP port limit (token create --max-tcp-ports, real processes)', () => {
  let relay: RelayProcess;
  let token: string;

  before(async () => {
    const dataDir = tempDir('portway-relay-');
    token = await createToken(dataDir, 'carol', ['--max-tcp-ports', '2']);
    relay = await startRelay({ dataDir });
  });
  after(async () => relay?.stop());

  it('counts the ports of every agent using the token and refuses the one past the limit', async () => {
    const first = await configureAgent(relay, { token });
    const second = await configureAgent(relay, { token });
    const a = await portway(first.configPath, ['route', 'tcp', 'allocate']);
    assert.equal(a.code, 0, a.stderr);
    const b = await portway(second.configPath, ['route', 'tcp', 'allocate']);
    assert.equal(b.code, 0, b.stderr);
    const refused = await portway(first.configPath, ['route', 'tcp', 'allocate']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /token "carol" allows 2 TCP port\(s\) and its agents hold 2/);
    // Releasing one makes room again.
    const port = Number(/Allocated port (\d+)/.exec(a.stdout)?.[1]);
    const released = await portway(first.configPath, ['route', 'tcp', 'release', '--port', String(port)]);
    assert.equal(released.code, 0, released.stderr);
    const again = await portway(first.configPath, ['route', 'tcp', 'allocate']);
    assert.equal(again.code, 0, again.stderr);
  });
});
