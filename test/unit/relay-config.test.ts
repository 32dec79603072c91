import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { envNameOf, OptionsError, parseRelayOptions, RELAY_FLAGS } from '../../relay/src/options';
import { tempDir } from '../helpers/processes';

function configFile(text: string): string {
  const file = path.join(tempDir('portway-config-'), 'relay.env');
  fs.writeFileSync(file, text);
  return file;
}

describe('relay settings from flags, environment and --config FILE', () => {
  it('every flag has an environment variable, flags winning over it', () => {
    const fromEnv = parseRelayOptions([], { DOMAIN: 'env.example', KEEPALIVE_MS: '2000', ADMIN_PORT: '9090', PROXY_PROTOCOL: 'true', TRUSTED_PROXIES: '10.0.0.0/8', LOG_FORMAT: 'json' });
    assert.equal(fromEnv.keepaliveMs, 2000);
    assert.equal(fromEnv.admin.port, 9090);
    assert.equal(fromEnv.security.proxyProtocol, true);
    assert.equal(fromEnv.log.format, 'json');
    const flagWins = parseRelayOptions(['--keepalive-ms', '3000'], { DOMAIN: 'env.example', KEEPALIVE_MS: '2000' });
    assert.equal(flagWins.keepaliveMs, 3000);
    assert.throws(() => parseRelayOptions([], { DOMAIN: 'env.example', PROXY_PROTOCOL: 'maybe' }), /PROXY_PROTOCOL must be true or false/);
  });

  it('the slow-visitor limits: a body progress timeout and an address share of the streams, with bounds', () => {
    const defaults = parseRelayOptions(['--domain', 'd.example'], {});
    assert.equal(defaults.security.limits.bodyTimeoutMs, 30_000);
    assert.equal(defaults.security.limits.addressSharePercent, 50);
    const set = parseRelayOptions(['--domain', 'd.example', '--body-timeout-ms', '500', '--address-share-percent', '100'], {});
    assert.equal(set.security.limits.bodyTimeoutMs, 500);
    assert.equal(set.security.limits.addressSharePercent, 100);
    assert.throws(() => parseRelayOptions(['--domain', 'd.example', '--address-share-percent', '0'], {}), /--address-share-percent must be a whole number from 1 to 100/);
    assert.throws(() => parseRelayOptions(['--domain', 'd.example', '--address-share-percent', '101'], {}), /from 1 to 100/);
    assert.throws(() => parseRelayOptions(['--domain', 'd.example', '--body-timeout-ms', '10'], {}), /--body-timeout-ms must be a whole number from 100/);
  });

  it('a config file of NAME=value lines, below the environment', () => {
    const file = configFile('# the team relay\nDOMAIN=tunnels.example.com\nAUTH_KEY="0123456789abcdef0123456789abcdef"\nDRAIN_TIMEOUT_MS=5000\nPORT=8081\n');
    const options = parseRelayOptions(['--config', file], { PORT: '9000' });
    assert.equal(options.domain, 'tunnels.example.com');
    assert.equal(options.authKey, '0123456789abcdef0123456789abcdef');
    assert.equal(options.admin.drainTimeoutMs, 5000);
    assert.equal(options.port, 9000, 'the environment wins over the file');
    assert.equal(parseRelayOptions([], { PORTWAY_RELAY_CONFIG: file }).domain, 'tunnels.example.com');
  });

  it('a bad line or an unknown name is a clear error with the line number', () => {
    assert.throws(() => parseRelayOptions(['--config', configFile('DOMAIN=a.example\nnot a setting\n')], {}), (err: Error) => err instanceof OptionsError && /relay\.env:2: expected NAME=value/.test(err.message));
    assert.throws(() => parseRelayOptions(['--config', configFile('DOMAN=a.example\n')], {}), /relay\.env:1: unknown setting DOMAN/);
    assert.throws(() => parseRelayOptions(['--config', '/nonexistent/relay.env'], {}), /cannot read the config file/);
  });

  it('names every flag with its variable', () => {
    assert.ok(RELAY_FLAGS.includes('trusted-proxies') && RELAY_FLAGS.includes('admin-port') && RELAY_FLAGS.includes('proxy-protocol'));
    assert.equal(envNameOf('max-streams-per-session'), 'MAX_STREAMS_PER_SESSION');
  });
});
