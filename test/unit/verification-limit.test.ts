import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ControlRequestError } from '../../mux/control-channel';
import { budgetKey, VerificationLimit } from '../../relay/src/domains/verification-limit';

/** A clock the test moves by hand. */
function manualClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function refusal(work: () => void): ControlRequestError {
  try {
    work();
  } catch (err) {
    assert.ok(err instanceof ControlRequestError);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('VerificationLimit (custom-domain DNS lookups)', () => {
  it('allows the burst, then refuses with a coded error saying when to retry, then refills', () => {
    const clock = manualClock();
    const limit = new VerificationLimit({ burst: 2, intervalMs: 4_000, now: clock.now });
    const alice = { tokenId: 'tok_aaaaaaaaaaaa', identityId: 'i1' };
    limit.spend(alice);
    limit.spend(alice);
    const refused = refusal(() => limit.spend(alice));
    assert.equal(refused.code, 'rate-limited');
    assert.equal(refused.message, 'too many verification attempts; retry in 4 s');
    clock.advance(3_100);
    assert.match(refusal(() => limit.spend(alice)).message, /retry in 1 s$/);
    clock.advance(1_000);
    limit.spend(alice); // one refilled
    assert.equal(refusal(() => limit.spend(alice)).code, 'rate-limited');
  });

  it('charges a token across its identities, and identities without a token one by one', () => {
    const limit = new VerificationLimit({ burst: 1, intervalMs: 60_000, now: manualClock().now });
    limit.spend({ tokenId: 'tok_aaaaaaaaaaaa', identityId: 'laptop' });
    assert.equal(refusal(() => limit.spend({ tokenId: 'tok_aaaaaaaaaaaa', identityId: 'fresh-identity' })).code, 'rate-limited');
    limit.spend({ tokenId: 'tok_bbbbbbbbbbbb', identityId: 'laptop' }); // another token: its own budget
    limit.spend({ identityId: 'shared-key-agent-1' });
    limit.spend({ identityId: 'shared-key-agent-2' });
    assert.equal(refusal(() => limit.spend({ identityId: 'shared-key-agent-1' })).code, 'rate-limited');
  });

  it('keeps token and identity keys apart', () => {
    assert.notEqual(budgetKey({ tokenId: 'x', identityId: 'y' }), budgetKey({ identityId: 'x' }));
  });
});
