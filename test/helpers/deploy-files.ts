import * as fs from 'node:fs';
import * as path from 'node:path';
import { envNameOf, RELAY_FLAGS } from '../../relay/src/options';
import { ROOT } from './processes';

export const DEPLOY_DIR = path.join(ROOT, 'deploy');

export function readDeployFile(...parts: string[]): string {
  return fs.readFileSync(path.join(DEPLOY_DIR, ...parts), 'utf8');
}

/** Environment variable names the relay reads: one per flag, and the config file's. */
export const RELAY_ENV_NAMES: ReadonlySet<string> = new Set([...RELAY_FLAGS.filter((flag) => flag !== 'config').map(envNameOf), 'PORTWAY_RELAY_CONFIG']);

/** Names of `--flags` in a command line that the relay's serve command does not take. */
export function unknownRelayFlags(args: readonly string[]): string[] {
  return args
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => arg.slice(2).split('=')[0])
    .filter((flag) => !RELAY_FLAGS.includes(flag));
}
