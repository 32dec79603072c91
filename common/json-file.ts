/**
 * Small JSON state files (agent config, relay identities, ports, tokens, domains): read whole,
 * written atomically and readable by their owner only. Sync and async forms share the same
 * rules; the async ones are for stores that reload while serving.
 */
import * as fs from 'node:fs';
import { writeFileAtomic, writeFileAtomicAsync } from './atomic-file';

/** A JSON file that could not be read or used; names the file so the user can fix it. */
export class JsonFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'JsonFileError';
  }
}

/** A file that exists but does not hold what it should. Nothing is overwritten. */
export class CorruptFileError extends JsonFileError {
  constructor(file: string, reason: string) {
    super(file, `is corrupt (${reason}); fix or remove it, it has not been changed`);
    this.name = 'CorruptFileError';
  }
}

/** State files are small; anything larger is not ours. */
const MAX_STATE_FILE = 16 * 1024 * 1024;

function parse(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CorruptFileError(file, `not valid JSON: ${(err as Error).message}`);
  }
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

const serialize = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

/** The parsed JSON, or undefined when the file does not exist. */
export function readJsonFile(file: string): unknown | undefined {
  let text: string;
  try {
    if (fs.statSync(file).size > MAX_STATE_FILE) throw new CorruptFileError(file, 'larger than a state file can be');
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    if (err instanceof JsonFileError) throw err;
    throw new JsonFileError(file, `cannot read: ${(err as Error).message}`);
  }
  return parse(file, text);
}

export async function readJsonFileAsync(file: string): Promise<unknown | undefined> {
  let text: string;
  try {
    if ((await fs.promises.stat(file)).size > MAX_STATE_FILE) throw new CorruptFileError(file, 'larger than a state file can be');
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    if (err instanceof JsonFileError) throw err;
    throw new JsonFileError(file, `cannot read: ${(err as Error).message}`);
  }
  return parse(file, text);
}

/** Replaces `file` atomically with `value` as JSON (see atomic-file.ts). */
export function writeJsonFileAtomic(file: string, value: unknown, mode = 0o600): void {
  writeFileAtomic(file, serialize(value), mode);
}

export function writeJsonFileAtomicAsync(file: string, value: unknown, mode = 0o600): Promise<void> {
  return writeFileAtomicAsync(file, serialize(value), mode);
}
