/**
 * The messages between the inspector webview and the extension host, declared once: the panel
 * (inspector-panel.ts) and the page's script (webview/inspector-view.ts) both import them.
 */
import type { CapturedRequest, ReplayEdit, RequestSummary } from '../../../protocol/rpc';

/** A request as the extension keeps it: keyed by agent run, so ids from a restarted agent never clash. */
export interface InspectorRow extends RequestSummary {
  /** `${agentRun}:${id}`. */
  key: string;
  /** Captured by an agent that has since restarted: listed, but its bodies went with it. */
  stale?: boolean;
}

/** Host → webview. */
export type ToWebview =
  /** `all`: the whole list (newest first); otherwise rows added or changed. */
  | { type: 'rows'; rows: InspectorRow[]; all: boolean; limit: number }
  /** Narrow the list to one route (opened from a route's context menu). */
  | { type: 'filterRoute'; route: string }
  | { type: 'detail'; key: string; request?: CapturedRequest; error?: string }
  | { type: 'replayed'; key: string; replay?: CapturedRequest; error?: string }
  | { type: 'notice'; text: string };

/** Webview → host. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'select'; key: string }
  | { type: 'replay'; key: string; edit?: ReplayEdit }
  | { type: 'copyCurl'; key: string }
  | { type: 'clear' };
