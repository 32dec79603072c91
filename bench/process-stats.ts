// Memory and CPU of other processes, read from Linux /proc (no sampling agent inside them).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

const MiB = 1024 * 1024;

export interface Memory {
  rssBytes: number; // VmRSS: resident now
  hwmBytes: number; // VmHWM: peak resident since the process started (kept by the kernel)
}

export function readMemory(pid: number): Memory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kib('VmRSS'), hwmBytes: kib('VmHWM') };
}

/** Fields of /proc/PID/stat after the `(comm)` field, which may itself contain spaces. */
function statFields(pid: number | 'self'): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK`: the unit of the /proc/PID/stat CPU times (100 on every Linux we know). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of a process, in seconds. Fields 14 and 15 of stat, i.e. 11 and 12 after comm. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

/**
 * utime alone: the process's own code (JavaScript, V8, Node), without the kernel's share (the
 * syscalls, loopback copies). Changes to what a process does per request show here with less noise
 * than in utime + stime, whose kernel part follows the machine's speed for loopback work.
 */
export function userCpuSeconds(pid: number): number {
  return Number(statFields(pid)[11]) / clockTicks();
}

/**
 * cutime + cstime of this process: CPU of children that have exited and been reaped. wrk and curl
 * are short-lived children, so the delta around one of their runs is their own CPU time.
 */
export function reapedChildrenCpuSeconds(): number {
  const f = statFields('self');
  return (Number(f[13]) + Number(f[14])) / clockTicks();
}

/**
 * CPU seconds the whole machine spent not idle (all CPUs, from the first line of /proc/stat).
 * Includes softirq time of loopback TCP, which is charged to no process.
 */
export function machineBusySeconds(): number {
  const first = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
  const [user, nice, system, , , irq, softirq, steal] = first.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / clockTicks();
}

/** Cores kept busy by everything on the machine over `ms`: anything well above 0 when the
 * benchmark is idle means other work shares the CPUs and the figures are noisier. */
export async function backgroundCores(ms = 1000): Promise<number> {
  const before = machineBusySeconds();
  await new Promise((r) => setTimeout(r, ms));
  return (machineBusySeconds() - before) / (ms / 1000);
}

export interface RssWindow {
  beforeBytes: number;
  maxBytes: number;
  /** max during the window minus the value just before it */
  growthBytes: number;
}

/** Samples VmRSS of some processes every `intervalMs` between start() and stop(). */
export class RssSampler {
  private readonly before = new Map<number, number>();
  private readonly max = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: readonly number[], private readonly intervalMs = 100) {}

  start(): void {
    for (const pid of this.pids) {
      const rss = readMemory(pid).rssBytes;
      this.before.set(pid, rss);
      this.max.set(pid, rss);
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): Map<number, RssWindow> {
    clearInterval(this.timer);
    this.sample();
    const result = new Map<number, RssWindow>();
    for (const pid of this.pids) {
      const beforeBytes = this.before.get(pid) ?? 0;
      const maxBytes = this.max.get(pid) ?? 0;
      result.set(pid, { beforeBytes, maxBytes, growthBytes: maxBytes - beforeBytes });
    }
    return result;
  }

  private sample(): void {
    for (const pid of this.pids) {
      try {
        const rss = readMemory(pid).rssBytes;
        this.max.set(pid, Math.max(this.max.get(pid) ?? 0, rss));
      } catch {
        // the process died; the caller notices through its own checks
      }
    }
  }
}

export function toMiB(bytes: number): number {
  return bytes / MiB;
}
