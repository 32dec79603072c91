/** `portway-relay token …` as a process: runs the command, maps its errors to exit codes (2: usage, 1: failure). */
import { runTokenCommand, TokenCommandError } from './token-command';
import { CorruptFileError, TokenStoreError } from './token-store';

export async function runTokenCli(argv: readonly string[]): Promise<number> {
  try {
    await runTokenCommand(argv, {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      env: process.env,
    });
    return 0;
  } catch (err) {
    process.stderr.write(`portway-relay token: ${(err as Error).message}\n`);
    if (err instanceof TokenCommandError) return 2;
    if (err instanceof TokenStoreError) return err.code === 'not-found' ? 1 : 2;
    if (err instanceof CorruptFileError) return 1;
    return 1;
  }
}
