/**
 * Live connections as plain data: open ones first (newest on top), then a short history of
 * closed ones so a quick request does not vanish before anyone sees it. No `vscode` import.
 */
import type { BlockedVisitor, ConnectionDidCloseNotification, ConnectionDidUpdateNotification, ConnectionInfo } from '../../../protocol/rpc';
import { ItemContext } from '../ids';

export const MAX_CLOSED_SHOWN = 20;

export interface ConnectionEntry extends ConnectionInfo {
  closedAt?: number;
  error?: string;
}

/** A visitor the firewall dropped, totalled per route and address while the window lives. */
export interface BlockedEntry extends BlockedVisitor {
  /** `blocked:<route>:<address>`. */
  key: string;
  firstAt: number;
}

export class ConnectionsModel {
  private readonly open = new Map<string, ConnectionEntry>();
  private closed: ConnectionEntry[] = [];
  /** Newest last (Map order); the oldest go beyond maxClosed. */
  private readonly blockedVisitors = new Map<string, BlockedEntry>();

  constructor(private readonly maxClosed = MAX_CLOSED_SHOWN) {}

  /**
   * The agent's open connections now (after an agent (re)start or a refresh). The history is
   * kept; a connection no longer open moves to it with `reason` (it ended with the agent).
   */
  reset(open: ConnectionInfo[] = [], reason = 'the agent restarted'): void {
    const now = Date.now();
    for (const c of this.open.values()) {
      if (!open.some((o) => o.id === c.id)) this.closed.unshift({ ...c, closedAt: now, error: reason });
    }
    if (this.closed.length > this.maxClosed) this.closed.length = this.maxClosed;
    this.open.clear();
    for (const c of open) this.open.set(c.id, { ...c });
  }

  /** Forgets the history too. */
  clear(): void {
    this.open.clear();
    this.closed = [];
    this.blockedVisitors.clear();
  }

  blocked(visitors: BlockedVisitor[]): void {
    for (const v of visitors) {
      const key = `blocked:${v.route.kind === 'http' ? v.route.domain : `tcp ${v.route.port}`}:${v.clientAddress}`;
      const before = this.blockedVisitors.get(key);
      this.blockedVisitors.delete(key);
      this.blockedVisitors.set(key, { ...v, key, count: (before?.count ?? 0) + v.count, firstAt: before?.firstAt ?? v.lastAt });
    }
    for (const key of this.blockedVisitors.keys()) {
      if (this.blockedVisitors.size <= this.maxClosed) break;
      this.blockedVisitors.delete(key);
    }
  }

  /** Newest first. */
  blockedEntries(): BlockedEntry[] {
    return [...this.blockedVisitors.values()].reverse();
  }

  opened(c: ConnectionInfo): void {
    this.open.set(c.id, { ...c });
  }

  /**
   * Applies live byte counts; returns the entries that changed. They are updated in place, the
   * same objects entries() returns, so a tree can refresh just those rows.
   */
  updated(u: ConnectionDidUpdateNotification.Params): ConnectionEntry[] {
    const changed: ConnectionEntry[] = [];
    for (const { id, bytesIn, bytesOut } of u.connections) {
      const c = this.open.get(id);
      if (!c || (c.bytesIn === bytesIn && c.bytesOut === bytesOut)) continue;
      Object.assign(c, { bytesIn, bytesOut });
      changed.push(c);
    }
    return changed;
  }

  closedConnection(e: ConnectionDidCloseNotification.Params): void {
    const c = this.open.get(e.id);
    if (!c) return;
    this.open.delete(e.id);
    this.closed.unshift({ ...c, bytesIn: e.bytesIn, bytesOut: e.bytesOut, closedAt: e.closedAt, error: e.error });
    if (this.closed.length > this.maxClosed) this.closed.length = this.maxClosed;
  }

  get openCount(): number {
    return this.open.size;
  }

  entries(): ConnectionEntry[] {
    const open = [...this.open.values()].sort((a, b) => b.openedAt - a.openedAt);
    return [...open, ...this.closed];
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

function clock(t: number): string {
  const d = new Date(t);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export function describeConnection(c: ConnectionEntry): { label: string; description: string; tooltip: string; icon: string; contextValue: string } {
  const route = c.route.kind === 'http' ? c.route.domain : `TCP :${c.route.port}`;
  const client = c.clientPort ? `${c.clientAddress}:${c.clientPort}` : c.clientAddress;
  const bytes = `↓${formatBytes(c.bytesIn)} ↑${formatBytes(c.bytesOut)}`;
  const state = c.closedAt === undefined ? 'open' : c.error ? `closed: ${c.error}` : 'closed';
  return {
    label: `${client} → ${route}`,
    description: `${clock(c.openedAt)} · ${bytes}${c.closedAt === undefined ? '' : ` · ${state}`}`,
    tooltip: `Client ${client}\nRoute ${route}\nOpened ${new Date(c.openedAt).toLocaleString()}\n${formatBytes(c.bytesIn)} from the client, ${formatBytes(c.bytesOut)} to the client\n${state}`,
    icon: c.closedAt === undefined ? 'circle-filled' : c.error ? 'error' : 'circle-outline',
    contextValue: ItemContext.Connection,
  };
}

export function describeBlocked(b: BlockedEntry): { label: string; description: string; tooltip: string; icon: string; contextValue: string } {
  const route = b.route.kind === 'http' ? b.route.domain : `TCP :${b.route.port}`;
  const times = b.count === 1 ? 'once' : `${b.count}×`;
  return {
    label: `Blocked ${b.clientAddress}`,
    description: `${route} · ${times} · ${clock(b.lastAt)}`,
    tooltip: `${b.clientAddress} was refused by the firewall of ${route} ${b.count === 1 ? 'once' : `${b.count} times`}\nFirst ${new Date(b.firstAt).toLocaleString()}\nLast ${new Date(b.lastAt).toLocaleString()}\nAllow it with "Add Allow Rule…" on the route.`,
    icon: 'circle-slash',
    contextValue: ItemContext.Blocked,
  };
}
