/**
 * Watches what a session has queued for an agent that the agent has not taken yet (the
 * WebSocket's send queue). A queue over its cap for longer than the grace means the agent stopped
 * reading (or reads far slower than its visitors send): `onStuck` then ends the session. A brief
 * burst over the cap is forgiven; the mux's hard limit (twice the cap) bounds memory meanwhile.
 */
export class SendQueueWatch {
  private overSince = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly unsentBytes: () => number,
    private readonly capBytes: number,
    private readonly graceMs: number,
    private readonly onStuck: (unsentBytes: number) => void,
  ) {}

  /** Called after every send; starts watching when the queue went over the cap. */
  check(): void {
    if (this.timer !== undefined || this.unsentBytes() <= this.capBytes) return;
    this.overSince = performance.now();
    // The queue only shrinks as the agent reads, which raises no event of its own: poll while over.
    this.timer = setInterval(() => this.poll(), Math.max(20, Math.floor(this.graceMs / 10)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private poll(): void {
    const unsent = this.unsentBytes();
    if (unsent <= this.capBytes) return this.stop();
    if (performance.now() - this.overSince < this.graceMs) return;
    this.stop();
    this.onStuck(unsent);
  }
}
