/** Both CLIs print their package's version: one number, kept in package.json only. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AGENT_BIN, RELAY_BIN } from '../helpers/processes';

const versionOf = (bin: string) => (JSON.parse(fs.readFileSync(path.join(path.dirname(bin), '..', 'package.json'), 'utf8')) as { version: string }).version;

for (const bin of [AGENT_BIN, RELAY_BIN]) {
  test(`${path.basename(bin)} --version prints its package.json version`, () => {
    const printed = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    assert.equal(printed, `${versionOf(bin)}\n`);
  });
}
