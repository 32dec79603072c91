/**
 * Tells an agent which visitors its routes' firewalls dropped (VisitorsBlocked), so its user sees
 * them: coalesced per route and client address, at most one message a second and a bounded list,
 * so a flood of refused visitors costs the session a few hundred bytes a second at most.
 */
import { BLOCKED_VISITORS_INTERVAL_MS, MAX_BLOCKED_VISITORS_PER_MESSAGE, type VisitorsBlocked } from '../../protocol/control';

type Entry = VisitorsBlocked['visitors'][number];

export class BlockedVisitorsReport {
  private readonly pending = new Map<string, Entry>();
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly send: (message: VisitorsBlocked) => void) {}

  add(route: string, clientAddress: string): void {
    const key = `${route} ${clientAddress}`;
    const entry = this.pending.get(key);
    if (entry) {
      entry.count++;
      entry.lastAt = Date.now();
    } else if (this.pending.size < MAX_BLOCKED_VISITORS_PER_MESSAGE) {
      this.pending.set(key, { route, clientAddress, count: 1, lastAt: Date.now() });
    } else {
      this.dropped++;
    }
    this.timer ??= setTimeout(() => this.flush(), BLOCKED_VISITORS_INTERVAL_MS);
    this.timer.unref();
  }

  private flush(): void {
    this.timer = undefined;
    const message: VisitorsBlocked = { type: 'blocked', visitors: [...this.pending.values()], dropped: this.dropped };
    this.pending.clear();
    this.dropped = 0;
    this.send(message);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
