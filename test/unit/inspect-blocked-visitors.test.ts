// Blocked visitors: the relay's report is coalesced per route and address and bounded per message,
// and the message parses on the agent's side.
import { strict as assert } from 'node:assert';
import { mock, test } from 'node:test';
import { BLOCKED_VISITORS_INTERVAL_MS, MAX_BLOCKED_VISITORS_PER_MESSAGE, parseRelayMessage, type VisitorsBlocked } from '../../protocol/control';
import { blockedVisitorsOf } from '../../agent/src/rpc/blocked-visitors';
import { BlockedVisitorsReport } from '../../relay/src/blocked-visitors';

test('one message per interval, one entry per route and address, the overflow counted', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const sent: VisitorsBlocked[] = [];
    const report = new BlockedVisitorsReport((m) => sent.push(m));
    for (let i = 0; i < 3; i++) report.add('app.relay.test', '203.0.113.9');
    report.add('tcp 22001', '203.0.113.9');
    for (let i = 0; i < MAX_BLOCKED_VISITORS_PER_MESSAGE + 5; i++) report.add('app.relay.test', `198.51.100.${i}`);
    assert.equal(sent.length, 0, 'nothing before the interval');
    mock.timers.tick(BLOCKED_VISITORS_INTERVAL_MS);
    assert.equal(sent.length, 1);
    const [message] = sent;
    assert.equal(message.visitors.length, MAX_BLOCKED_VISITORS_PER_MESSAGE);
    assert.equal(message.visitors[0].count, 3);
    assert.equal(message.dropped, 7, 'the visitors beyond the bound are counted, not listed');

    const parsed = parseRelayMessage(JSON.stringify(message));
    assert.equal(parsed.type, 'blocked');
    const notification = blockedVisitorsOf(parsed as VisitorsBlocked);
    assert.deepEqual(notification.visitors[0].route, { kind: 'http', domain: 'app.relay.test' });
    assert.deepEqual(notification.visitors[1].route, { kind: 'tcp', port: 22001 });

    report.add('app.relay.test', '203.0.113.9');
    report.stop();
    mock.timers.tick(BLOCKED_VISITORS_INTERVAL_MS);
    assert.equal(sent.length, 1, 'a stopped report sends nothing');
  } finally {
    mock.timers.reset();
  }
});
