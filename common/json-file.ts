import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/** A JSON file that could not be read or parsed; names the file so the user can fix it. */
export class JsonFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'JsonFileError';
  }
}

/** Reads and parses a JSON file; undefined when it does not exist. Never returns partial data. */
export function readJsonFile(file: string): unknown | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new JsonFileError(file, `cannot read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new JsonFileError(file, `is not valid JSON (${(err as Error).message}); fix or remove it`);
  }
}

/**
 * Writes JSON atomically: a temporary file in the same directory, fsync, then rename,
 * so a crash or a concurrent reader never sees a half-written file.
 */
export function writeJsonFileAtomic(file: string, value: unknown, mode = 0o600): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(temp, 'w', mode);
  try {
    fs.writeSync(fd, JSON.stringify(value, null, 2) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}
