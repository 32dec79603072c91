import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from '../../protocol/control';
import { FrameType, GoAwayCode } from '../../protocol/frame';
import { startOrigin, type TestOrigin } from '../helpers/origin';
import { configureAgent, portway, startAgent, startRelay, tempDir, type RelayProcess } from '../helpers/processes';
import { RawAgent } from '../helpers/raw-agent';
import { createToken, portwayRelay } from '../helpers/relay-cli';
import { getThrough } from '../helpers/relay-health';

describe('per-user tokens (portway-relay token …, real processes)', () => {
  let relay: RelayProcess;
  let origin: TestOrigin;
  let dataDir: string;
  let aliceToken: string;

  before(async () => {
    dataDir = tempDir('portway-relay-');
    aliceToken = await createToken(dataDir, 'alice', ['--max-tunnels', '1']);
    origin = await startOrigin();
    relay = await startRelay({ dataDir });
  });
  after(async () => {
    await relay?.stop();
    await origin?.close();
  });

  it('token create prints only the token; ls never shows it; the file holds only a hash', async () => {
    assert.match(aliceToken, /^pw_[A-Za-z0-9_-]{40,}$/);
    const listed = await portwayRelay(['token', 'ls', '--data-dir', dataDir]);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, /alice\s+tok_[0-9a-f]{12}\s+1\s/);
    assert.ok(!listed.stdout.includes(aliceToken));
    const help = await portwayRelay(['token', '--help']);
    assert.match(help.stdout, /create --name N/);
    const bad = await portwayRelay(['token', 'create', '--data-dir', dataDir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--name/);
  });

  it('the relay is closed once tokens exist: no credential, a wrong one, or a good one', async () => {
    const none = await RawAgent.connect(relay.port, { localAddress: '127.0.0.20' });
    assert.equal(none.answer.type, 'refused');
    assert.equal((await none.agent.closed).code, CloseCode.Unauthorized);
    const wrong = await RawAgent.connect(relay.port, { auth: 'pw_wrong', localAddress: '127.0.0.20' });
    assert.deepEqual([wrong.answer.type, (wrong.answer as { code: string }).code], ['refused', 'unauthorized']);
    const good = await RawAgent.connect(relay.port, { auth: aliceToken, mode: 'control' });
    assert.equal(good.answer.type, 'welcome');
    good.agent.close();
    assert.ok(!relay.lines.some((line) => line.includes(aliceToken) || line.includes('pw_wrong')), 'tokens never reach the log');
  });

  it('enforces the per-token tunnel limit with a clear refusal; control sessions do not count', async () => {
    const first = await RawAgent.connect(relay.port, { auth: aliceToken });
    assert.equal(first.answer.type, 'welcome');
    const second = await RawAgent.connect(relay.port, { auth: aliceToken });
    assert.equal(second.answer.type, 'refused');
    assert.equal((second.answer as { code: string }).code, 'limit-reached');
    assert.match((second.answer as { message: string }).message, /alice.*1 tunnel/);
    assert.equal((await second.agent.closed).code, CloseCode.LimitReached);
    const control = await RawAgent.connect(relay.port, { auth: aliceToken, mode: 'control' });
    assert.equal(control.answer.type, 'welcome');
    control.agent.close();
    // The same identity reconnecting replaces its session: not a second tunnel.
    first.agent.close();
    await first.agent.closed;
    // The CLI shows the refusal.
    const { configPath } = await configureAgent(relay, { token: aliceToken });
    const blocker = await RawAgent.connect(relay.port, { auth: aliceToken });
    assert.equal(blocker.answer.type, 'welcome');
    const cfg = await portway(configPath, ['configure', '--relay', relay.url, '--token', aliceToken]);
    assert.equal(cfg.code, 1);
    assert.match(cfg.stderr, /allows 1 tunnel/);
    blocker.agent.close();
    await blocker.agent.closed;
  });

  it('revoking a token closes its live sessions (GoAway unauthorized, close 4001) and refuses it after', async () => {
    const from = relay.lines.length;
    const bobToken = await createToken(dataDir, 'bob');
    await relay.waitFor(/token added: bob/, 10_000, from); // the running relay picks it up from disk
    const session = await RawAgent.connect(relay.port, { auth: bobToken });
    assert.equal(session.answer.type, 'welcome');
    const revoked = await portwayRelay(['token', 'revoke', 'bob', '--data-dir', dataDir]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const closed = await session.agent.closed;
    assert.equal(closed.code, CloseCode.Unauthorized);
    assert.equal(session.agent.frames.find((f) => f.type === FrameType.GoAway)?.length, GoAwayCode.Unauthorized);
    const again = await RawAgent.connect(relay.port, { auth: bobToken, localAddress: '127.0.0.20' });
    assert.equal((again.answer as { code: string }).code, 'unauthorized');
  });

  it('a real agent with a token serves traffic; revocation takes it offline for good', async () => {
    const from = relay.lines.length;
    const carolToken = await createToken(dataDir, 'carol');
    await relay.waitFor(/token added: carol/, 10_000, from);
    const { configPath, hostname } = await configureAgent(relay, { token: carolToken });
    await portway(configPath, ['route', 'http', 'add', '--domain', hostname, '--destination', '127.0.0.1', '--http', String(origin.port)]);
    const agent = startAgent(configPath);
    try {
      await agent.waitFor(/Connected to/);
      assert.equal((await getThrough(relay.port, hostname)).status, 200);
      await portwayRelay(['token', 'revoke', 'carol', '--data-dir', dataDir]);
      await agent.waitFor(/refused|unauthorized/i);
      assert.equal((await getThrough(relay.port, hostname)).status, 502);
    } finally {
      await agent.stop();
    }
  });
});
