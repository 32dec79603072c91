import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from '../../protocol/control';
import { RELAY_BIN, startRelay, tempDir, type CliResult, type RelayProcess } from '../helpers/processes';
import { RawAgent } from '../helpers/raw-agent';
import { createToken } from '../helpers/relay-cli';

const AUTH_KEY = 'k'.repeat(40);

/** Runs the relay with `args`, expecting it to refuse them and exit (killed after 10 s if it does not). */
function relayRefusing(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const argv = [RELAY_BIN, '--domain', 'localhost', '--host', '127.0.0.1', '--port', '0', '--data-dir', tempDir('portway-relay-'), ...args];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { env: { ...process.env, ...env }, timeout: 10_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('relay-wide default tunnel limit (--max-tunnels-per-token, real relay)', () => {
  let relay: RelayProcess;
  let plainToken: string;
  let ownLimitToken: string;
  const sessions: RawAgent[] = [];

  before(async () => {
    const dataDir = tempDir('portway-relay-');
    plainToken = await createToken(dataDir, 'dave');
    ownLimitToken = await createToken(dataDir, 'erin', ['--max-tunnels', '3']);
    relay = await startRelay({ dataDir, authKey: AUTH_KEY, extraArgs: ['--max-tunnels-per-token', '2'] });
  });
  after(async () => {
    for (const agent of sessions) agent.close();
    await relay?.stop();
  });

  /** A tunnel session with a fresh identity; its first answer from the relay. */
  async function tunnel(auth: string) {
    const { agent, answer } = await RawAgent.connect(relay.port, { auth });
    sessions.push(agent);
    return { agent, answer: answer as { type: string; code?: string; message?: string } };
  }

  it('refuses a token without its own limit beyond N tunnels, with the per-token refusal', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await tunnel(plainToken)).answer.type, 'welcome');
    const third = await tunnel(plainToken);
    assert.equal(third.answer.type, 'refused');
    assert.equal(third.answer.code, 'limit-reached');
    assert.match(third.answer.message ?? '', /token "dave" allows 2 tunnel\(s\) at once \(the relay's default\) and 2 are online/);
    assert.equal((await third.agent.closed).code, CloseCode.LimitReached);
    const control = await RawAgent.connect(relay.port, { auth: plainToken, mode: 'control' });
    assert.equal(control.answer.type, 'welcome', 'control sessions do not count');
    control.agent.close();
  });

  it("a token's own higher limit wins over the default", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await tunnel(ownLimitToken)).answer.type, 'welcome', `tunnel ${i + 1}`);
    const fourth = await tunnel(ownLimitToken);
    assert.equal(fourth.answer.code, 'limit-reached');
    assert.match(fourth.answer.message ?? '', /token "erin" allows 3 tunnel\(s\) at once and 3 are online/);
  });

  it('the AUTH_KEY is not a token: its tunnels are not counted', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await tunnel(AUTH_KEY)).answer.type, 'welcome', `tunnel ${i + 1}`);
  });

  it('rejects 0, negative and non-numeric values with a clear error and exit code 2', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--max-tunnels-per-token', '0'], {}, /--max-tunnels-per-token must be a whole number from 1 to \d+ \(got "0"\)/],
      [['--max-tunnels-per-token', '-1'], {}, /--max-tunnels-per-token must be a whole number .*\(got "-1"\)/],
      [['--max-tunnels-per-token=two'], {}, /--max-tunnels-per-token must be a whole number .*\(got "two"\)/],
      [['--max-tunnels-per-token', '1.5'], {}, /--max-tunnels-per-token must be a whole number .*\(got "1\.5"\)/],
      [['--max-tunnels-per-token'], {}, /--max-tunnels-per-token needs a value/],
      [[], { MAX_TUNNELS_PER_TOKEN: '0' }, /MAX_TUNNELS_PER_TOKEN must be a whole number from 1 to \d+ \(got "0"\)/],
    ];
    const results = await Promise.all(cases.map(([args, env]) => relayRefusing(args, env)));
    results.forEach((result, i) => {
      const [args, env, message] = cases[i];
      const label = `${args.join(' ')} ${JSON.stringify(env)}`;
      assert.equal(result.code, 2, `${label}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message, label);
      assert.match(result.stderr, /^portway-relay: /, label);
    });
  });
});
