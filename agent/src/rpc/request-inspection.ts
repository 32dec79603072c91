/**
 * The request inspector as the extension drives it: one Inspector kept across tunnel restarts
 * (its history survives Stop/Start), switched on and bounded by inspect/configure, its changes
 * coalesced into inspect/didChange events. Knows nothing of JSON-RPC: it hands AgentCoreEvents to `emit`.
 */
import { RpcErrorCode, INSPECT_NOTIFY_INTERVAL_MS, type CapturedRequest, type InspectConfigureRequest, type RequestSummary } from '../../../protocol/rpc';
import type { ReplayEdit } from '../../../protocol/inspect';
import { DEFAULT_BOUNDS, type RingBounds } from '../inspect/capture-ring';
import { Inspector, toCapturedRequest, toRequestSummary, type Capture } from '../inspect/inspector';
import { ReplayError, replayRequest } from '../inspect/replay';
import type { HttpHandler } from '../serve/http-exchange';
import { AgentCoreError, type AgentCoreEvent } from './agent-core';

function boundsOf(params: InspectConfigureRequest.Params): RingBounds {
  return {
    maxRequests: params.maxRequests ?? DEFAULT_BOUNDS.maxRequests,
    maxBytes: params.maxMemoryMiB !== undefined ? Math.round(params.maxMemoryMiB * 1024 * 1024) : DEFAULT_BOUNDS.maxBytes,
  };
}

/** Most requests one inspect/didChange lists (the newest changed ones). */
export const MAX_CHANGES_PER_NOTIFICATION = 500;

export class RequestInspection {
  private current: Inspector | undefined;
  /** Changed since the last event, by id (each sent once, with its latest state). */
  private readonly pending = new Map<number, Capture>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: (event: AgentCoreEvent) => void,
    /** Called when capture is switched on or off, so the running runtime follows. */
    private readonly changed: (inspector: Inspector | undefined) => void,
  ) {}

  get inspector(): Inspector | undefined {
    return this.current;
  }

  configure(params: InspectConfigureRequest.Params): void {
    if (!params.enabled) {
      if (!this.current) return;
      this.current.removeAllListeners();
      this.current = undefined;
      this.changed(undefined);
      return;
    }
    if (this.current) return this.current.resize(boundsOf(params));
    const inspector = new Inspector(boundsOf(params));
    inspector.on('captured', (c) => this.queue(c));
    inspector.on('updated', (c) => this.queue(c));
    this.current = inspector;
    this.changed(inspector);
  }

  list(): RequestSummary[] {
    return this.current?.list().map(toRequestSummary) ?? [];
  }

  get(id: number): CapturedRequest {
    const capture = this.current?.get(id);
    if (!capture) throw new AgentCoreError(RpcErrorCode.NotFound, `no captured request ${id} (it may have left the inspector's history)`);
    return toCapturedRequest(capture);
  }

  async replay(id: number, edit: ReplayEdit | undefined, handlerFor: ((route: string) => HttpHandler) | undefined): Promise<CapturedRequest> {
    if (!this.current) throw new AgentCoreError(RpcErrorCode.Unsupported, 'the request inspector is off (setting portway.inspector.enabled)');
    if (!handlerFor) throw new AgentCoreError(RpcErrorCode.NotConnected, 'start sharing first: a replay goes through the running tunnel');
    try {
      return toCapturedRequest(await replayRequest(this.current, handlerFor, id, edit));
    } catch (err) {
      if (!(err instanceof ReplayError)) throw err;
      if (err.reason === 'failed') throw new Error(err.message);
      throw new AgentCoreError(err.reason === 'not-found' ? RpcErrorCode.NotFound : RpcErrorCode.InvalidArgument, err.message);
    }
  }

  clear(): void {
    this.current?.clear();
  }

  private queue(c: Capture): void {
    this.pending.set(c.id, c);
    this.timer ??= setTimeout(() => this.flush(), INSPECT_NOTIFY_INTERVAL_MS);
  }

  private flush(): void {
    this.timer = undefined;
    // Under a flood only the newest few hundred matter (the ring keeps no more): the rest is not sent.
    const changed = [...this.pending.values()];
    const requests = changed.slice(-MAX_CHANGES_PER_NOTIFICATION).map(toRequestSummary);
    this.pending.clear();
    if (requests.length > 0) this.emit({ type: 'inspect', change: { requests } });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.current?.removeAllListeners();
    this.current = undefined;
  }
}
