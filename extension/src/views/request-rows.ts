/**
 * One Connections row per HTTP request (from the request inspector), readable at the default
 * sidebar width: the label leads with method and path, the description with status, time and
 * size; the tooltip has every field. No `vscode` import.
 */
import type { InspectorRow } from '../inspector/webview-messages';
import { ItemContext } from '../ids';
import type { RowView } from './tree-item';
import { formatBytes } from './connections-model';

/** What went wrong, in words, for rows whose status alone does not say it. */
function problemOf(r: InspectorRow): string | undefined {
  if (r.state === 'reset') return r.error ? `reset: ${r.error}` : 'reset before the answer ended';
  if (r.status === 502) return 'bad gateway: the origin did not answer';
  if (r.status === 504) return 'gateway timeout: the origin was too slow';
  return undefined;
}

function iconOf(r: InspectorRow): string {
  if (r.state === 'reset') return 'debug-disconnect';
  if (r.state === 'pending' || r.state === 'streaming') return 'loading~spin';
  const s = r.status ?? 0;
  return s >= 500 ? 'error' : s >= 400 ? 'warning' : s >= 300 ? 'arrow-right' : 'pass';
}

function clock(t: number): string {
  const d = new Date(t);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export function describeRequest(r: InspectorRow): RowView {
  const status = r.state === 'reset' ? (r.status ? `${r.status} reset` : 'reset') : r.status ? String(r.status) : r.state;
  const duration = r.durationMs === undefined ? undefined : `${r.durationMs < 10 ? r.durationMs.toFixed(1) : Math.round(r.durationMs)} ms`;
  const problem = problemOf(r);
  const tooltip = [
    `${r.method} ${r.proto}://${r.host}${r.path}`,
    `Status ${status}${problem ? ` (${problem})` : ''}`,
    `Route ${r.route}`,
    `Client ${r.clientAddress}`,
    `Started ${new Date(r.startedAt).toLocaleString()}`,
    r.ttfbMs !== undefined ? `First byte after ${r.ttfbMs.toFixed(1)} ms` : undefined,
    duration ? `Took ${duration}` : undefined,
    `${formatBytes(r.bytesIn)} from the client, ${formatBytes(r.bytesOut)} to the client`,
    r.replayOf !== undefined ? `Replay of request #${r.replayOf}` : undefined,
    r.stale ? 'Captured before the agent restarted (bodies no longer held)' : undefined,
  ].filter((l): l is string => l !== undefined);
  return {
    label: `${r.method} ${r.path}`,
    description: [status, duration, formatBytes(r.bytesOut), clock(r.startedAt)].filter(Boolean).join(' · '),
    tooltip: tooltip.join('\n'),
    icon: iconOf(r),
    contextValue: ItemContext.Request,
  };
}
