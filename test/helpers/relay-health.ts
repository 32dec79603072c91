/** A relay seen from outside: its memory (/proc) and requests through it with a chosen Host. */
import * as fs from 'node:fs';
import * as http from 'node:http';

/** Resident set size of a process in KiB, from /proc/<pid>/status. */
export function rssKiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

/** GET through the relay with a given Host; resolves with status and body. */
export function getThrough(port: number, host: string, path = '/', localAddress?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { host }, agent: false, localAddress }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

export interface Canary {
  hostname: string;
  /** Text the canary's origin answers with. */
  marker: string;
}

/** Allowed RSS growth after a hostile test settles (garbage not yet collected, allocator slack). */
export const RSS_MARGIN_KIB = 48 * 1024;
