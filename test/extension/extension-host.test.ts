/** Runs the mocha suite in test/extension/suite inside a real VS Code extension host (code-server). */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { openWorkbench, ROOT, startCodeServer, type CodeServer, type Workbench } from './harness/code-server';

let codeServer: CodeServer;
let workbench: Workbench | undefined;

before(async () => {
  codeServer = await startCodeServer();
});

after(async () => {
  await workbench?.close();
  await codeServer?.stop();
});

test('mocha suite inside the extension host passes', { timeout: 300_000 }, async () => {
  workbench = await openWorkbench(codeServer, {
    extensionPath: ROOT,
    extensionTestsPath: path.join(ROOT, 'out', 'test', 'extension', 'suite', 'index.js'),
    artifactPrefix: 'extension-host',
  });
  const code = await workbench.exitCode;
  await workbench.screenshot('done');
  const report = workbench.logs.join('\n');
  assert.equal(code, 0, `the in-host suite failed:\n${report}`);
  assert.match(report, /passing/, `mocha reported:\n${report}`);
  assert.doesNotMatch(report, /failing/);
});
