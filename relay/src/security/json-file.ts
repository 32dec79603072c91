/**
 * The relay's small state files (tokens, verified domains): JSON, replaced atomically so that a
 * crash or a concurrent reader never sees half a file, readable by the relay's user only.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** A state file that exists but cannot be read as what it should be. Nothing is overwritten. */
export class CorruptFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file} is corrupt (${reason}); fix or remove it, it has not been changed`);
    this.name = 'CorruptFileError';
  }
}

/** State files are small; anything larger is not ours. */
const MAX_STATE_FILE = 16 * 1024 * 1024;

/** The parsed JSON, or undefined when the file does not exist. Throws CorruptFileError otherwise. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    const stat = await fs.stat(file);
    if (stat.size > MAX_STATE_FILE) throw new CorruptFileError(file, `${stat.size} bytes is more than a state file can hold`);
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CorruptFileError(file, (err as Error).message);
  }
}

/**
 * Writes `value` as JSON to a temporary file beside `file` (mode 0600), flushes it, and renames it
 * over `file`: readers see the old content or the new, never a mix.
 */
export async function writeJsonFileAtomic(file: string, value: unknown): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(JSON.stringify(value, null, 2) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

/** Makes the rename itself durable; not every platform can open a directory, so best effort. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Durability of the rename only; the content is already safe.
  } finally {
    await handle?.close();
  }
}
