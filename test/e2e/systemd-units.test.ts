import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readDeployFile, RELAY_ENV_NAMES } from '../helpers/deploy-files';
import { AGENT_BIN, RELAY_BIN, tempDir } from '../helpers/processes';

const ANALYZE = spawnSync('systemd-analyze', ['--version']).status === 0;

/** `systemd-analyze verify` of a unit whose ExecStart names this checkout's binaries. */
function verify(unit: string): { status: number | null; output: string } {
  const dir = tempDir('portway-systemd-');
  const file = path.join(dir, unit);
  const text = readDeployFile('systemd', unit).replace('/usr/bin/portway-relay', RELAY_BIN).replace('/usr/bin/portway ', `${AGENT_BIN} `);
  fs.writeFileSync(file, text);
  const result = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

describe('deploy/systemd units', { skip: ANALYZE ? false : 'systemd-analyze is not installed (apt-get install systemd)' }, () => {
  for (const unit of ['portway-relay.service', 'portway-agent.service']) {
    it(`${unit} passes systemd-analyze verify without a warning`, () => {
      const { status, output } = verify(unit);
      assert.equal(status, 0, output);
      assert.equal(output, '', 'no unknown key or other warning');
    });
  }

  it('the relay unit is hardened and names only settings the relay knows', () => {
    const unit = readDeployFile('systemd', 'portway-relay.service');
    for (const line of ['DynamicUser=yes', 'StateDirectory=portway-relay', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'AmbientCapabilities=CAP_NET_BIND_SERVICE']) {
      assert.ok(unit.split('\n').includes(line), line);
    }
    const names = [...unit.matchAll(/^Environment=([A-Z_]+)=/gm), ...readDeployFile('systemd', 'relay.env.example').matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]);
    assert.ok(names.length >= 5);
    assert.deepEqual(names.filter((name) => !RELAY_ENV_NAMES.has(name)), []);
  });
});
