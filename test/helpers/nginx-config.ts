// Running Debian's nginx with the config the docs ship, without any process helper: shared by the
// nginx tests (test/helpers/nginx.ts) and the benchmark's "behind nginx" row (bench/nginx-front.ts).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The shipped site file, meant for nginx's http {} block. */
export const SHIPPED_NGINX_SITE = path.join('deploy', 'nginx', 'portway-relay.conf');

/** Debian's nginx binary, or undefined when it is not installed (CI installs it: apt-get install nginx). */
export function nginxBinary(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (fs.existsSync(candidate)) return candidate;
  const found = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
  return found || undefined;
}

/**
 * Writes a main config including `siteConfig` under the throwaway prefix `dir`; returns nginx's
 * arguments to run it in the foreground (it logs "start worker process" once serving).
 */
export function nginxArgs(dir: string, siteConfig: string): string[] {
  const site = path.join(dir, 'site.conf');
  fs.writeFileSync(site, siteConfig);
  const temp = (name: string) => `${name}_temp_path ${path.join(dir, name)};`;
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${path.join(dir, 'nginx.pid')};`,
      'error_log stderr notice;',
      'events { worker_connections 2048; }',
      `http { access_log off; ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join(' ')} include ${site}; }`,
    ].join('\n'),
  );
  return ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'];
}

/** nginx's line once its worker serves. */
export const NGINX_READY = /start worker process/;

/** `text` with each [from, to] replaced; throws if a `from` is not there (the shipped file changed). */
export function substitute(text: string, replacements: [string, string][]): string {
  return replacements.reduce((result, [from, to]) => {
    if (!result.includes(from)) throw new Error(`"${from}" is not in the file any more; update the substitutions`);
    return result.split(from).join(to);
  }, text);
}
