import { spawn } from 'node:child_process';
import { nginxArgs, NGINX_READY } from './nginx-config';
import { RunningProcess } from './processes';

export { nginxBinary, substitute } from './nginx-config';

/**
 * Runs nginx in the foreground with `siteConfig` (a file meant for its http {} block) under a
 * throwaway prefix dir; resolves once its worker has started (its own log line says so).
 */
export async function startNginx(binary: string, dir: string, siteConfig: string): Promise<RunningProcess> {
  const proc = new RunningProcess(spawn(binary, nginxArgs(dir, siteConfig), { stdio: ['ignore', 'pipe', 'pipe'] }));
  await proc.startedOrKilled('nginx', NGINX_READY);
  return proc;
}
