import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { GLIBC_MALLOC_TUNABLES, withMallocTunables } from '../../common/malloc-tunables';

const root = path.join(__dirname, '..', '..', '..');
const dynamicLoader = '/lib64/ld-linux-x86-64.so.2';

describe('malloc tunables', () => {
  it('are added to a launcher environment, but never over a GLIBC_TUNABLES the user set', () => {
    assert.equal(withMallocTunables({ PATH: '/bin' }).GLIBC_TUNABLES, GLIBC_MALLOC_TUNABLES);
    assert.equal(withMallocTunables({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES, 'glibc.malloc.arena_max=2');
  });

  it('are the ones the relay container image sets', () => {
    const dockerfile = fs.readFileSync(path.join(root, 'relay', 'Dockerfile'), 'utf8');
    assert.match(dockerfile, new RegExp(`^ENV GLIBC_TUNABLES=${GLIBC_MALLOC_TUNABLES.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('are understood by this machine’s glibc', { skip: !fs.existsSync(dynamicLoader) && 'no x86-64 glibc loader here' }, () => {
    const listed = spawnSync(dynamicLoader, ['--list-tunables'], { env: withMallocTunables({}), encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /^glibc\.malloc\.mmap_threshold: 0x400000 /m);
    assert.match(listed.stdout, /^glibc\.malloc\.trim_threshold: 0x8000000 /m);
  });
});
