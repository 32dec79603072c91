/** Issue 15's decisions that need no editor: resume after a reload, inputs, tree state, status text. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
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
