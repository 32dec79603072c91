// The facts printed above the table, so a result can be compared with another machine's.
import { execFileSync, spawnSync } from 'node:child_process';
import * as os from 'node:os';

function commandOutput(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return 'unknown';
  }
}

export function describeEnvironment(root: string): string[] {
  const cpus = os.cpus();
  const commit = commandOutput('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = commandOutput('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : '';
  // `wrk -v` prints its version and usage, then exits 1.
  const wrk = (spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout ?? 'wrk').split('\n')[0].split(' Copyright')[0].trim();
  return [
    `date: ${new Date().toISOString()}`,
    `commit: ${commit}${dirty}`,
    `machine: ${cpus.length} CPU(s) (${cpus[0]?.model.trim() ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}`,
    `node ${process.version}; load: ${wrk}, 1 thread; all traffic on 127.0.0.1`,
  ];
}
