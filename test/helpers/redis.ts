import { spawn, spawnSync } from 'node:child_process';
import { RunningProcess } from './processes';
import { freePortRange } from './tcp';

/** Debian's redis-server, or undefined when it is not installed (CI: apt-get install redis-server). */
export function redisBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  return found || undefined;
}

export interface RedisProcess extends RunningProcess {
  port: number;
  url: string;
}

/** A throwaway redis-server on loopback (no persistence), owned by the test; `port` reuses one. */
export async function startRedis(binary: string, port?: number): Promise<RedisProcess> {
  const chosen = port ?? (await freePortRange(1)).first;
  const proc = new RunningProcess(spawn(binary, ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  await Promise.race([
    proc.waitFor(/Ready to accept connections/),
    proc.exited.then((code) => {
      throw new Error(`redis-server exited with ${code}:\n${proc.lines.join('\n')}`);
    }),
  ]);
  return Object.assign(proc, { port: chosen, url: `redis://127.0.0.1:${chosen}` });
}
