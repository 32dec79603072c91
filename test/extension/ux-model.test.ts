/** Issue 15's decisions that need no editor: resume after a reload, inputs, tree state, status text. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { destinationFor, portItems } from '../../extension/src/commands/inputs';
import { shouldRun, type ResumeInputs } from '../../extension/src/resume-policy';

test('resume: autoStart resumes configured routes on the first start, but never after an explicit stop', () => {
  const fresh: ResumeInputs = { wantRunning: false, firstStart: true, autoStart: true, hasRoutes: true, configured: true, stoppedByUser: false };
  assert.equal(shouldRun(fresh), true);
  assert.equal(shouldRun({ ...fresh, stoppedByUser: true }), false, 'Stop Sharing survives the reload');
  assert.equal(shouldRun({ ...fresh, autoStart: false }), false);
  assert.equal(shouldRun({ ...fresh, hasRoutes: false }), false);
  assert.equal(shouldRun({ ...fresh, firstStart: false }), false, 'an agent restart only resumes what the user started');
  assert.equal(shouldRun({ ...fresh, firstStart: false, wantRunning: true }), true);
  assert.equal(shouldRun({ ...fresh, stoppedByUser: true, wantRunning: true }), true, 'started again in this window');
});

test('share picker: a port bound to one specific address is shared at that address; loopbacks and wildcards are found by the agent', () => {
  assert.equal(destinationFor(['::1']), undefined, 'the agent probes 127.0.0.1 and ::1');
  assert.equal(destinationFor(['127.0.0.1', '::1']), undefined);
  assert.equal(destinationFor(['0.0.0.0']), undefined);
  assert.equal(destinationFor(['127.0.0.2']), '127.0.0.2');
  const [item] = portItems([{ port: 3458, address: '127.0.0.2', family: 4, pid: 7, process: 'node' }]);
  assert.equal(item.destination, '127.0.0.2');
  assert.equal(item.description, 'node (pid 7) · 127.0.0.2');
});
