import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { configureAgent, portway, startAgent, startRelay, tempDir, type RelayProcess, type RunningProcess } from '../helpers/processes';

describe('webroot route through relay and agent', () => {
  let relay: RelayProcess | undefined;
  let agent: RunningProcess | undefined;
  after(async () => {
    await agent?.stop();
    await relay?.stop();
  });

  it('serves static files, index.html and 304s, and refuses traversal', async () => {
    const site = tempDir('portway-site-');
    fs.writeFileSync(path.join(site, 'index.html'), '<h1>home</h1>');
    fs.writeFileSync(path.join(site, 'app.js'), 'console.log(1)');
    relay = await startRelay();
    const { configPath, hostname } = await configureAgent(relay);
    const domain = `docs.${hostname}`;
    const added = await portway(configPath, ['route', 'http', 'add', '--domain', domain, '--webroot', site]);
    assert.equal(added.code, 0, added.stderr);
    agent = startAgent(configPath);
    await agent.waitFor(/Connected to/);

    const home = await request(relay.port, domain);
    assert.equal(home.status, 200);
    assert.equal(home.body.toString(), '<h1>home</h1>');
    const script = await request(relay.port, domain, { path: '/app.js' });
    assert.match(String(script.headers['content-type']), /javascript/);
    const again = await request(relay.port, domain, { path: '/app.js', headers: { 'if-none-match': String(script.headers.etag) } });
    assert.equal(again.status, 304);
    const escape = await request(relay.port, domain, { path: '/%2e%2e/%2e%2e/etc/passwd' });
    assert.ok([403, 404].includes(escape.status), `traversal answered ${escape.status}`);
    const info = await portway(configPath, ['info']);
    assert.match(info.stdout, new RegExp(`${domain.replace(/\./g, '\\.')}\\s*\\| webroot`));
  });
});
