import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigFileError, loadConfig, saveConfig, updateConfig } from '../../agent/src/config/config-file';
import type { AgentConfig } from '../../agent/src/config/schema';
import { portway, tempDir } from '../helpers/processes';

const sample = (): AgentConfig => ({
  version: 1,
  relay: { url: 'http://127.0.0.1:1' },
  identity: 'x'.repeat(43),
  hostname: 'small-fire-20477.localhost',
  http: [{ domain: 'small-fire-20477.localhost', destination: '127.0.0.1', http: 3000, hostRewrite: true, firewall: [] }],
  tcp: [],
});

describe('agent config file', () => {
  it('saves atomically with mode 0600 and loads back', () => {
    const file = path.join(tempDir(), 'nested', 'config.json');
    saveConfig(file, sample());
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadConfig(file).http[0].http, 3000);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['config.json'], 'no temporary files left behind');
  });

  it('names the file and the problem for corrupt JSON, and leaves it untouched', () => {
    const file = path.join(tempDir(), 'config.json');
    fs.writeFileSync(file, '{"version": 1, "relay": ');
    assert.throws(() => loadConfig(file), (err: Error) => err instanceof ConfigFileError && err.message.includes(file) && /not valid JSON/.test(err.message));
    assert.throws(() => updateConfig(file, () => undefined), ConfigFileError);
    assert.equal(fs.readFileSync(file, 'utf8'), '{"version": 1, "relay": ');
  });

  it('names the field for a wrong shape', () => {
    const file = path.join(tempDir(), 'config.json');
    const bad = { ...sample(), http: [{ domain: 'a.localhost', http: 'eighty' }] };
    fs.writeFileSync(file, JSON.stringify(bad));
    assert.throws(() => loadConfig(file), /http\[0\]\.http must be a port number/);
  });
});

describe('portway CLI arguments', () => {
  it('prints help for every command and exits 0', async () => {
    for (const args of [['--help'], ['configure', '--help'], ['route', 'http', 'add', '--help'], ['start', '--help']]) {
      const res = await portway(path.join(tempDir(), 'c.json'), args);
      assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stdout, /Usage: portway/);
    }
  });

  it('gives a clear error and exit code 2 for bad arguments', async () => {
    const file = path.join(tempDir(), 'config.json');
    saveConfig(file, sample());
    const before = fs.readFileSync(file, 'utf8');
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['route', 'http', 'add', '--domain', 'a.small-fire-20477.localhost', '--destination', '127.0.0.1', '--http', '99999'], /port number from 1 to 65535/],
      [['route', 'http', 'add', '--domain', 'a.small-fire-20477.localhost'], /say what to serve/],
      [['route', 'http', 'add', '--domain', 'a.small-fire-20477.localhost', '--destination', 'bad host!', '--http', '80'], /"bad host!" is not an IP address or host name/],
      [['route', 'http', 'add', '--destination', '127.0.0.1', '--http', '80'], /--domain is required/],
      [['route', 'http', 'add', '--domain', 'other.example.com', '--destination', '127.0.0.1', '--http', '80'], /not small-fire-20477\.localhost, a verified custom domain, or a subdomain/],
      [['route', 'http', 'rm', '--domain', 'missing.small-fire-20477.localhost'], /no HTTP route/],
      [['info', '--bogus'], /unknown option --bogus/],
      [['configure'], /--relay is required/],
    ];
    for (const [args, message] of cases) {
      const res = await portway(file, args);
      assert.equal(res.code, 2, `${args.join(' ')} → ${res.code}: ${res.stderr}`);
      assert.match(res.stderr, message);
    }
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'nothing was changed by the failed commands');
  });

  it('reports a corrupt config file by name with exit code 1', async () => {
    const file = path.join(tempDir(), 'config.json');
    fs.writeFileSync(file, 'not json');
    const res = await portway(file, ['info']);
    assert.equal(res.code, 1);
    assert.ok(res.stderr.includes(file));
  });
});
