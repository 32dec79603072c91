/**
 * What a route row says about whether it works right now: online, stopped, relay down, agent
 * stopped, or nothing listening on its destination. No `vscode` import (unit-tested).
 */
import type { TunnelState } from '../../../protocol/rpc';
import type { NodeView } from './routes-model';

export interface RouteStateContext {
  tunnel: TunnelState;
  agentDown: boolean;
  /** Local ports something listens on, when known. */
  listening?: ReadonlySet<number>;
}

interface StateLook {
  word: string;
  icon: string;
  why: string;
}

/** The state of one route whose local destination port is `port` (undefined: a folder, or not forwarded). */
export function routeState(ctx: RouteStateContext, port: number | undefined): StateLook {
  if (ctx.agentDown) return { word: 'agent stopped', icon: 'error', why: 'The Portway agent is not running; use Restart Agent.' };
  if (ctx.tunnel === 'stopped') return { word: 'stopped', icon: 'debug-pause', why: 'Not shared: start sharing to make it public.' };
  if (ctx.tunnel === 'offline') return { word: 'relay down', icon: 'warning', why: 'The relay cannot be reached; visitors cannot get through.' };
  if (ctx.tunnel === 'connecting') return { word: 'connecting', icon: 'sync', why: 'Connecting to the relay.' };
  if (port !== undefined && ctx.listening && !ctx.listening.has(port)) return { word: `nothing listening on :${port}`, icon: 'warning', why: `Visitors get an error page: nothing listens on local port ${port}.` };
  return { word: 'online', icon: 'pass-filled', why: 'Online: visitors reach it.' };
}

/** A route row with its state said first; a refused route (icon error) keeps its own look. */
export function withState(view: NodeView, ctx: RouteStateContext | undefined, port: number | undefined): NodeView {
  if (!ctx || view.icon === 'error') return view;
  const state = routeState(ctx, port);
  return { ...view, description: `${state.word} ${view.description ?? ''}`.trim(), tooltip: `${state.why}\n${view.tooltip}`, icon: state.icon };
}
