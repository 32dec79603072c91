/**
 * What a fault must leave behind in a process, read from /proc: its open file descriptors and
 * resident memory, polled back to a baseline while the caller gives it work to settle with.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { rssKiB } from './relay-health';

export function openFdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

export interface ProcessBaseline {
  name: string;
  pid: number;
  fds: number;
  rssKiB: number;
}

export function baselineOf(name: string, pid: number): ProcessBaseline {
  return { name, pid, fds: openFdCount(pid), rssKiB: rssKiB(pid) };
}

/** How long a process may take to close what a fault left behind, read after read. */
const SETTLE_DEADLINE_MS = 10_000;

/**
 * Asserts the process is back to its baseline: no more descriptors than then (plus `fdSlack` for
 * pooled keep-alive connections), RSS within `rssMarginKiB`. Sockets close and memory is returned
 * as the event loop turns, so `settle` (a canary round trip) runs between reads until the counts
 * are back or SETTLE_DEADLINE_MS has passed: the wait is on the counts, never a fixed sleep.
 */
export async function assertBackToBaseline(base: ProcessBaseline, settle: () => Promise<unknown>, options: { fdSlack?: number; rssMarginKiB?: number } = {}): Promise<void> {
  const fdSlack = options.fdSlack ?? 2;
  const rssMargin = options.rssMarginKiB ?? 48 * 1024;
  const within = () => openFdCount(base.pid) <= base.fds + fdSlack && rssKiB(base.pid) <= base.rssKiB + rssMargin;
  const deadline = Date.now() + SETTLE_DEADLINE_MS;
  while (!within() && Date.now() < deadline) await settle();
  const fds = openFdCount(base.pid);
  const rss = rssKiB(base.pid);
  assert.ok(fds <= base.fds + fdSlack, `${base.name}: ${fds} open descriptors, baseline ${base.fds}:\n${fs.readdirSync(`/proc/${base.pid}/fd`).map((fd) => safeLink(base.pid, fd)).join('\n')}`);
  assert.ok(rss <= base.rssKiB + rssMargin, `${base.name}: RSS ${rss} KiB, baseline ${base.rssKiB} KiB`);
}

function safeLink(pid: number, fd: string): string {
  try {
    return `${fd} -> ${fs.readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
  } catch {
    return `${fd} (closed)`;
  }
}
