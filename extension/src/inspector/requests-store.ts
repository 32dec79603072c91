/**
 * Captured requests as the extension keeps them (the inspector webview and the Connections view
 * read the same store): newest first, bounded, and kept when the agent restarts (its rows are then
 * marked stale: the new agent no longer holds their bodies). No `vscode` import.
 */
import type { RequestSummary } from '../../../protocol/rpc';
import type { InspectorRow } from './webview-messages';

export const DEFAULT_KEPT_ROWS = 500;

export class RequestsStore {
  private readonly rows = new Map<string, InspectorRow>();
  /** Counts agent starts: part of each key. */
  private run = 0;
  private readonly listeners = new Set<(changed: InspectorRow[], all: boolean) => void>();

  constructor(private maxRows = DEFAULT_KEPT_ROWS) {}

  /** Listens for changes: `all` after clear/new run, otherwise just the rows added or changed. */
  onDidChange(listener: (changed: InspectorRow[], all: boolean) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** A new agent runs: what the old one captured stays listed, marked stale. */
  newAgentRun(): void {
    this.run++;
    for (const row of this.rows.values()) {
      row.stale = true;
      // An exchange cut by the agent's end never finishes: say so rather than "pending" forever.
      if (row.state === 'pending' || row.state === 'streaming') Object.assign(row, { state: 'reset', error: 'the agent restarted' });
    }
    this.fire([...this.rows.values()], true);
  }

  get limit(): number {
    return this.maxRows;
  }

  setLimit(maxRows: number): void {
    this.maxRows = Math.max(1, maxRows);
    this.trim();
  }

  /** Adds or updates the agent's current-run requests. */
  upsert(requests: RequestSummary[]): InspectorRow[] {
    const changed: InspectorRow[] = [];
    for (const r of requests) {
      const key = `${this.run}:${r.id}`;
      const row: InspectorRow = { ...r, key };
      // Re-inserting moves a row to the end of the Map's order: only new rows are added there.
      if (this.rows.has(key)) Object.assign(this.rows.get(key)!, row);
      else this.rows.set(key, row);
      changed.push(this.rows.get(key)!);
    }
    this.trim();
    if (changed.length > 0) this.fire(changed, false);
    return changed;
  }

  clear(): void {
    this.rows.clear();
    this.fire([], true);
  }

  get(key: string): InspectorRow | undefined {
    return this.rows.get(key);
  }

  /** The agent's id of a current-run row; undefined for a stale or unknown one. */
  agentId(key: string): number | undefined {
    const row = this.rows.get(key);
    return row && !row.stale ? row.id : undefined;
  }

  /** Newest first. */
  list(): InspectorRow[] {
    return [...this.rows.values()].sort((a, b) => b.startedAt - a.startedAt || (a.key < b.key ? 1 : -1));
  }

  get size(): number {
    return this.rows.size;
  }

  private trim(): void {
    // Map order is insertion order: the oldest go first.
    for (const key of this.rows.keys()) {
      if (this.rows.size <= this.maxRows) break;
      this.rows.delete(key);
    }
  }

  private fire(changed: InspectorRow[], all: boolean): void {
    for (const l of [...this.listeners]) l(all ? this.list() : changed, all);
  }
}
