import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { startRelay, tempDir } from '../helpers/processes';
import { portwayRelay } from '../helpers/relay-cli';

describe('one relay per data directory (real relay processes)', () => {
  it('a second relay on the same data dir exits with a clear error; the first keeps serving', async () => {
    const first = await startRelay();
    try {
      const second = await portwayRelay(['--domain', 'localhost', '--host', '127.0.0.1', '--port', '0', '--data-dir', first.dataDir]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /another portway-relay \(pid \d+ on .*\) is using the data directory/);
      const health = await fetch(`${first.url}/healthz`);
      assert.equal(health.status, 200);
    } finally {
      await first.stop();
    }
    assert.equal(await first.exited, 0);
    assert.ok(!fs.existsSync(path.join(first.dataDir, 'relay.lock')), 'a clean exit releases the lock');
    const next = await startRelay({ dataDir: first.dataDir });
    await next.stop();
  });

  it('the lock a killed relay left is taken over: a dead pid at once, another host’s once stale', async () => {
    const dataDir = tempDir('portway-relay-');
    const killed = await startRelay({ dataDir });
    await killed.stop('SIGKILL');
    const restarted = await startRelay({ dataDir });
    assert.ok(restarted.lines.some((line) => /taking over the stale data directory lock/.test(line)));
    await restarted.stop();

    const lock = path.join(dataDir, 'relay.lock');
    fs.writeFileSync(lock, JSON.stringify({ pid: 1, host: 'another-host', startedAt: 'then' }));
    const busy = await portwayRelay(['--domain', 'localhost', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir]);
    assert.equal(busy.code, 1, 'a fresh lock from another host is respected');
    assert.match(busy.stderr, /pid 1 on another-host/);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    const afterStale = await startRelay({ dataDir });
    await afterStale.stop();
  });
});
