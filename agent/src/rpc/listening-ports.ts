/**
 * TCP ports listening on this machine, for the extension's "Share Port…" picker.
 * Linux: /proc/net/tcp and /proc/net/tcp6 (state 0A = LISTEN), owners found by matching socket
 * inodes against /proc/<pid>/fd links, names from /proc/<pid>/comm and working directories from
 * /proc/<pid>/cwd where readable. Elsewhere (or when /proc is missing) the list is empty and the
 * user types a port.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ListeningPort } from '../../../protocol/rpc';

const TCP_LISTEN = '0A';
/** Upper bound on processes scanned, so a huge /proc cannot stall the picker. */
const MAX_PIDS_SCANNED = 20_000;

export interface ProcSocket {
  address: string;
  port: number;
  family: 4 | 6;
  state: string;
  inode: number;
}

/** "0100007F" → "127.0.0.1" (each 32-bit word is in host byte order, little-endian on x86/arm). */
function decodeIPv4(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

/** 32 hex digits = four little-endian 32-bit words → compressed IPv6 text. */
function decodeIPv6(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < 4; word++) {
    const w = hex.slice(word * 8, word * 8 + 8);
    for (let i = 3; i >= 0; i--) bytes.push(parseInt(w.slice(i * 2, i * 2 + 2), 16));
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  // The WHATWG URL parser prints IPv6 in its canonical compressed form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** Parses the text of /proc/net/tcp or /proc/net/tcp6; malformed lines are skipped. */
export function parseProcNetTcp(text: string, family: 4 | 6): ProcSocket[] {
  const sockets: ProcSocket[] = [];
  const addrLength = family === 4 ? 8 : 32;
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [addrHex, portHex] = fields[1].split(':');
    if (addrHex === undefined || portHex === undefined) continue;
    if (addrHex.length !== addrLength || !/^[0-9A-Fa-f]+$/.test(addrHex) || !/^[0-9A-Fa-f]{4}$/.test(portHex)) continue;
    const inode = Number(fields[9]);
    if (!Number.isSafeInteger(inode)) continue;
    sockets.push({
      address: family === 4 ? decodeIPv4(addrHex) : decodeIPv6(addrHex),
      port: parseInt(portHex, 16),
      family,
      state: fields[3].toUpperCase(),
      inode,
    });
  }
  return sockets;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Maps socket inode → pid for the processes whose fd tables we may read. */
async function socketOwners(procRoot: string, wanted: Set<number>): Promise<Map<number, number>> {
  const owners = new Map<number, number>();
  if (wanted.size === 0) return owners;
  let entries: string[];
  try {
    entries = await fs.readdir(procRoot);
  } catch {
    return owners;
  }
  const pids = entries.filter((e) => /^\d+$/.test(e)).slice(0, MAX_PIDS_SCANNED);
  for (const pid of pids) {
    if (owners.size === wanted.size) break;
    const fdDir = path.join(procRoot, pid, 'fd');
    let fds: string[];
    try {
      fds = await fs.readdir(fdDir);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = await fs.readlink(path.join(fdDir, fd));
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (!m) continue;
      const inode = Number(m[1]);
      if (wanted.has(inode) && !owners.has(inode)) owners.set(inode, Number(pid));
    }
  }
  return owners;
}

export interface ListeningPortsOptions {
  /** Root of the proc filesystem (tests point it at a fake tree). */
  procRoot?: string;
}

/** Listening TCP ports, sorted by port then address, one entry per (port, address). */
export async function listListeningPorts(options: ListeningPortsOptions = {}): Promise<ListeningPort[]> {
  const procRoot = options.procRoot ?? '/proc';
  const sockets: ProcSocket[] = [];
  for (const family of [4, 6] as const) {
    const text = await readText(path.join(procRoot, 'net', family === 4 ? 'tcp' : 'tcp6'));
    if (text !== undefined) sockets.push(...parseProcNetTcp(text, family).filter((s) => s.state === TCP_LISTEN));
  }
  const owners = await socketOwners(procRoot, new Set(sockets.map((s) => s.inode).filter((i) => i !== 0)));
  const names = new Map<number, string | undefined>();
  const cwds = new Map<number, string | undefined>();
  const seen = new Set<string>();
  const result: ListeningPort[] = [];
  for (const socket of sockets) {
    const key = `${socket.port} ${socket.address}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const entry: ListeningPort = { port: socket.port, address: socket.address, family: socket.family };
    const pid = owners.get(socket.inode);
    if (pid !== undefined) {
      entry.pid = pid;
      if (!names.has(pid)) names.set(pid, (await readText(path.join(procRoot, String(pid), 'comm')))?.trim() || undefined);
      const name = names.get(pid);
      if (name) entry.process = name;
      if (!cwds.has(pid)) cwds.set(pid, await fs.readlink(path.join(procRoot, String(pid), 'cwd')).catch(() => undefined));
      const cwd = cwds.get(pid);
      if (cwd) entry.cwd = cwd;
    }
    result.push(entry);
  }
  result.sort((a, b) => a.port - b.port || a.family - b.family || a.address.localeCompare(b.address));
  return result;
}
