/**
 * The end of every hostile test: the relay process is still up, its memory came back near where it
 * started, and a canary tunnel still answers.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { RelayProcess } from './processes';

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

export async function assertRelayHealthy(relay: RelayProcess, baselineKiB: number, canary: Canary): Promise<void> {
  assert.equal(relay.child.exitCode, null, `relay exited:\n${relay.lines.slice(-20).join('\n')}`);
  const health = await getThrough(relay.port, 'localhost', '/_portway/health');
  assert.equal(health.status, 200);
  const answer = await getThrough(relay.port, canary.hostname, '/');
  assert.equal(answer.status, 200, `canary answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  assert.ok(answer.body.includes(canary.marker), 'canary body');
  // Memory settles as sockets close and buffers are freed: each canary round trip gives it a turn.
  let rss = rssKiB(relay.child.pid!);
  for (let round = 0; rss > baselineKiB + RSS_MARGIN_KIB && round < 50; round++) {
    await getThrough(relay.port, canary.hostname, '/');
    rss = rssKiB(relay.child.pid!);
  }
  assert.ok(rss <= baselineKiB + RSS_MARGIN_KIB, `relay RSS ${rss} KiB, baseline ${baselineKiB} KiB`);
}
