/**
 * Replaces a file atomically: the contents go to a temporary name beside it (created with
 * `mode`, in a directory made 0700 if missing), are fsynced, then renamed over the target, and
 * the directory is fsynced so the rename itself survives a crash. A reader sees the old file or
 * the new one, never a mix. Every state file and secret of agent and relay is written this way.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

function tempPathBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

export function writeFileAtomic(file: string, contents: string, mode = 0o600): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = tempPathBeside(file);
  const fd = fs.openSync(temp, 'wx', mode);
  try {
    try {
      fs.writeFileSync(fd, contents);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
  try {
    const dirFd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch {
    // Durability of the rename only (not every platform fsyncs a directory); the content is safe.
  }
}

export async function writeFileAtomicAsync(file: string, contents: string, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = tempPathBeside(file);
  const handle = await fs.promises.open(temp, 'wx', mode);
  try {
    try {
      await handle.writeFile(contents);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, file);
  } catch (err) {
    await fs.promises.rm(temp, { force: true });
    throw err;
  }
  let dirHandle: fs.promises.FileHandle | undefined;
  try {
    dirHandle = await fs.promises.open(dir, 'r');
    await dirHandle.sync();
  } catch {
    // As above: best effort.
  } finally {
    await dirHandle?.close();
  }
}
