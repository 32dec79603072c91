import { EventEmitter } from 'node:events';
import type { MuxStream } from '../../../mux/stream';
import { Backoff, type FailureKind } from './backoff';
import type { RefusalCode } from '../../../protocol/control';
import { GoAwayCode } from '../../../protocol/frame';
import { connectToRelay, RelayHttpError, RelayRefusedError, type ConnectOptions, type RelayConnection } from './relay-connection';
import { useTunnelBufferPool } from './buffer-pool';

/** A relay refusal, or 'replaced': another live agent of this identity took the tunnel over. */
export type StopCause = RefusalCode | 'replaced';

export type TunnelState =
  | { status: 'connecting'; attempt: number }
  | { status: 'online'; hostname: string; relayUrl: string }
  | { status: 'offline'; reason: string; retryInMs?: number; fatal: boolean; /** Why the relay ended it for good: its refusal, or another agent took over. */ refusal?: StopCause }
  | { status: 'stopped' };

/** What a TunnelClient emits, with each event's arguments. */
export interface TunnelClientEvents {
  state: [state: TunnelState];
  /** A session was accepted; its control channel is ready for the routes announcement. */
  online: [connection: RelayConnection];
}

const REPLACED_MESSAGE =
  'another agent with this identity (the same config file: another `portway` process or VS Code window) connected to the relay ' +
  'and took over the tunnel; this one stops. Run one agent per config file (`--config` gives each its own).';

/** GoAway codes after which the relay is expected back at once (a restart or drain), not a fault. */
const CLEAN_GOAWAY: ReadonlySet<number> = new Set([GoAwayCode.Normal]);

/** The relay answered and said "not now": back off for real (see Backoff). */
function failureKind(err: unknown): FailureKind {
  if (err instanceof RelayRefusedError && err.code === 'rate-limited') return 'busy';
  if (err instanceof RelayHttpError && (err.status === 429 || err.status === 503)) return 'busy';
  return 'unreachable';
}

/**
 * Keeps one session to the relay alive: connects, hands incoming streams to `onStream`,
 * and after any loss reconnects with backoff and jitter (probing quickly right after the loss,
 * see Backoff), asking for the same hostname.
 * A refusal (wrong key, name taken, version mismatch) is fatal: retrying would not help. So is
 * being replaced by another live agent of the same identity: reconnecting would replace it back.
 */
export class TunnelClient extends EventEmitter<TunnelClientEvents> {
  private current: RelayConnection | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private attempt = 0;
  private _state: TunnelState = { status: 'stopped' };

  constructor(
    private options: ConnectOptions,
    private readonly onStream: (stream: MuxStream) => void,
    private readonly backoff = new Backoff(),
  ) {
    super();
  }

  get state(): TunnelState {
    return this._state;
  }

  get connection(): RelayConnection | undefined {
    return this.current;
  }

  /** New settings apply from the next connection (e.g. a hostname learnt from the relay). */
  updateOptions(options: Partial<ConnectOptions>): void {
    this.options = { ...this.options, ...options };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    useTunnelBufferPool();
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.current?.mux.close('agent stopped');
    this.current = undefined;
    this.setState({ status: 'stopped' });
  }

  private setState(state: TunnelState): void {
    this._state = state;
    this.emit('state', state);
  }

  private async connect(): Promise<void> {
    this.attempt++;
    this.setState({ status: 'connecting', attempt: this.attempt });
    let connection: RelayConnection;
    try {
      connection = await connectToRelay({ ...this.options, onStream: this.onStream });
    } catch (err) {
      if (this.stopped) return;
      // Too many failed logins from this address (maybe someone else's): waiting may help.
      const fatal = err instanceof RelayRefusedError && err.code !== 'rate-limited';
      return this.scheduleRetry((err as Error).message, fatal, err instanceof RelayRefusedError ? err.code : undefined, failureKind(err));
    }
    if (this.stopped) {
      connection.mux.close('agent stopped');
      return;
    }
    this.current = connection;
    this.attempt = 0;
    this.options.requestedHostname = connection.welcome.hostname;
    const connectedAt = Date.now();
    connection.mux.once('close', (reason) => {
      if (this.current !== connection) return;
      this.current = undefined;
      if (this.stopped) return;
      const goAway = connection.mux.peerGoAwayCode;
      if (goAway === GoAwayCode.Replaced) return this.scheduleRetry(REPLACED_MESSAGE, true, 'replaced');
      const clean = goAway !== undefined && CLEAN_GOAWAY.has(goAway);
      const livedMs = Date.now() - connectedAt;
      this.backoff.sessionEnded({ clean, livedMs });
      // A session that died young without a word is the relay in trouble, not gone: treat it as load.
      const stable = clean || livedMs >= this.backoff.stableSessionMs;
      this.scheduleRetry(reason, false, undefined, stable ? 'unreachable' : 'busy');
    });
    this.setState({ status: 'online', hostname: connection.welcome.hostname, relayUrl: this.options.relayUrl });
    this.emit('online', connection);
  }

  private scheduleRetry(reason: string, fatal: boolean, refusal?: StopCause, kind: FailureKind = 'unreachable'): void {
    if (fatal) {
      this.stopped = true;
      this.setState({ status: 'offline', reason, fatal: true, refusal });
      return;
    }
    const delay = this.backoff.next(kind);
    this.setState({ status: 'offline', reason, retryInMs: delay, fatal: false });
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }
}
