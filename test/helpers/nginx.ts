import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunningProcess } from './processes';

/** Debian's nginx binary, or undefined when it is not installed (CI installs it: apt-get install nginx). */
export function nginxBinary(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (fs.existsSync(candidate)) return candidate;
  const found = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
  return found || undefined;
}

/**
 * Runs nginx in the foreground with `siteConfig` (a file meant for its http {} block) under a
 * throwaway prefix dir; resolves once its worker has started (its own log line says so).
 */
export async function startNginx(binary: string, dir: string, siteConfig: string): Promise<RunningProcess> {
  const site = path.join(dir, 'site.conf');
  fs.writeFileSync(site, siteConfig);
  const temp = (name: string) => `${name}_temp_path ${path.join(dir, name)};`;
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${path.join(dir, 'nginx.pid')};`,
      'error_log stderr notice;',
      'events { worker_connections 256; }',
      `http { access_log off; ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join(' ')} include ${site}; }`,
    ].join('\n'),
  );
  const proc = new RunningProcess(spawn(binary, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  await Promise.race([
    proc.waitFor(/start worker process/),
    proc.exited.then((code) => {
      throw new Error(`nginx exited with ${code}:\n${proc.lines.join('\n')}`);
    }),
  ]);
  return proc;
}

/** `text` with each [from, to] replaced; throws if a `from` is not there (the shipped file changed). */
export function substitute(text: string, replacements: [string, string][]): string {
  return replacements.reduce((result, [from, to]) => {
    if (!result.includes(from)) throw new Error(`"${from}" is not in the file any more; update the test's substitutions`);
    return result.split(from).join(to);
  }, text);
}
