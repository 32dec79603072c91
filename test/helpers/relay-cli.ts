import { execFile } from 'node:child_process';
import { RELAY_BIN, type CliResult } from './processes';

/** Runs `portway-relay <args>` (e.g. `token create`) to completion. */
export function portwayRelay(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RELAY_BIN, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Creates a token in `dataDir`; resolves with the token text. */
export async function createToken(dataDir: string, name: string, extra: string[] = []): Promise<string> {
  const result = await portwayRelay(['token', 'create', '--name', name, '--data-dir', dataDir, ...extra]);
  if (result.code !== 0) throw new Error(`token create failed (${result.code}): ${result.stderr}`);
  return result.stdout.trim();
}
