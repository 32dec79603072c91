/**
 * Keeps stored ACME certificates fresh (the agent's routes, the relay's own names). It wakes at the earliest renewal time
 * (or every `checkIntervalMs`, whichever is sooner, so a suspended laptop catches up), renews
 * what is due one domain at a time, and tells the core through events so it can swap the
 * route's SecureContext without a restart. Clock and timers are injectable for tests.
 */
import { EventEmitter } from 'node:events';
import { DEFAULT_RENEW_BEFORE_DAYS, renewalTime, type CertificatePair, type CertificateStore, type StoredCertificate } from './cert-store';
import { normalizeAcmeDomain } from './domain-name';

export interface RenewedEvent {
  domain: string;
  certificate: StoredCertificate;
  /** What was stored before (undefined for a first issuance). */
  previous?: StoredCertificate;
}

export interface FailedEvent {
  domain: string;
  error: Error;
  /** When this domain will be tried again. */
  retryAt: Date;
}

export interface RenewalTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RenewalSchedulerOptions {
  store: CertificateStore;
  /** Domains whose routes use ACME right now; read at every check, so route changes apply live. */
  domains: () => Iterable<string>;
  /** Obtains a fresh pair, normally obtainCertificate() with the agent's ACME settings. */
  issue: (domain: string) => Promise<CertificatePair>;
  now?: () => Date;
  timers?: RenewalTimers;
  renewBeforeDays?: number;
  /** Longest sleep between checks. Default 12 h. */
  checkIntervalMs?: number;
  /** Backoff after a failure: starts here, doubles per consecutive failure, capped at maxRetryDelayMs. */
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
}

const HOUR_MS = 60 * 60 * 1000;
/** Never schedule a wake-up sooner than this, so a clock oddity cannot spin. */
const MIN_WAKE_MS = 1_000;

const realTimers: RenewalTimers = {
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    handle.unref(); // renewal alone must not keep the agent alive
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export declare interface RenewalScheduler {
  on(event: 'renewed', listener: (event: RenewedEvent) => void): this;
  on(event: 'failed', listener: (event: FailedEvent) => void): this;
  once(event: 'renewed', listener: (event: RenewedEvent) => void): this;
  once(event: 'failed', listener: (event: FailedEvent) => void): this;
  emit(event: 'renewed', payload: RenewedEvent): boolean;
  emit(event: 'failed', payload: FailedEvent): boolean;
}

export class RenewalScheduler extends EventEmitter {
  private readonly now: () => Date;
  private readonly timers: RenewalTimers;
  private readonly renewBeforeDays: number;
  private readonly checkIntervalMs: number;
  private readonly minRetryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  /** Per domain: consecutive failures and when to try again. */
  private readonly backoff = new Map<string, { failures: number; retryAt: Date }>();
  private timer: unknown;
  private running = false;
  private checking: Promise<RenewedEvent[]> | undefined;

  constructor(private readonly options: RenewalSchedulerOptions) {
    super();
    this.now = options.now ?? (() => new Date());
    this.timers = options.timers ?? realTimers;
    this.renewBeforeDays = options.renewBeforeDays ?? DEFAULT_RENEW_BEFORE_DAYS;
    this.checkIntervalMs = options.checkIntervalMs ?? 12 * HOUR_MS;
    this.minRetryDelayMs = options.minRetryDelayMs ?? HOUR_MS / 4;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 24 * HOUR_MS;
  }

  /** Checks right away, then keeps itself scheduled until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Renews every due domain now (concurrent calls share one run) and resolves with what was
   * renewed; failures are emitted as 'failed' and never reject.
   */
  checkNow(): Promise<RenewedEvent[]> {
    this.checking ??= this.runCheck().finally(() => {
      this.checking = undefined;
      if (this.running) this.schedule(this.nextWakeDelay());
    });
    return this.checking;
  }

  /** Forgets a domain's failure backoff (e.g. after the user fixed DNS and asked to retry). */
  resetBackoff(domain: string): void {
    this.backoff.delete(normalizeAcmeDomain(domain));
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.checkNow();
    }, delayMs);
  }

  /** Normalized, deduplicated domains; an invalid name is reported once per check as a failure. */
  private currentDomains(reportInvalid: boolean): string[] {
    const names = new Set<string>();
    for (const domain of this.options.domains()) {
      try {
        names.add(normalizeAcmeDomain(domain));
      } catch (err) {
        if (reportInvalid) this.emit('failed', { domain, error: err as Error, retryAt: new Date(this.now().getTime() + this.checkIntervalMs) });
      }
    }
    return [...names].sort();
  }

  private async runCheck(): Promise<RenewedEvent[]> {
    const renewed: RenewedEvent[] = [];
    // One at a time: a CA's rate limits count requests, and a burst gains nothing.
    for (const domain of this.currentDomains(true)) {
      const now = this.now();
      const pause = this.backoff.get(domain);
      if (pause && now < pause.retryAt) continue;
      if (!this.options.store.needsRenewal(domain, now, this.renewBeforeDays)) continue;
      const previous = this.options.store.load(domain);
      try {
        const pair = await this.options.issue(domain);
        const certificate = this.options.store.save(domain, pair);
        this.backoff.delete(domain);
        const event: RenewedEvent = { domain, certificate, previous };
        renewed.push(event);
        this.emit('renewed', event);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        const failures = (pause?.failures ?? 0) + 1;
        const delay = Math.min(this.minRetryDelayMs * 2 ** (failures - 1), this.maxRetryDelayMs);
        const hinted = (error as { retryAfter?: unknown }).retryAfter;
        const retryAt = new Date(Math.max(this.now().getTime() + delay, hinted instanceof Date ? hinted.getTime() : 0));
        this.backoff.set(domain, { failures, retryAt });
        this.emit('failed', { domain, error, retryAt });
      }
    }
    return renewed;
  }

  /** Until the earliest renewal time or retry, bounded by the check interval. */
  private nextWakeDelay(): number {
    const now = this.now().getTime();
    let wake = now + this.checkIntervalMs;
    for (const domain of this.currentDomains(false)) {
      const cert = this.options.store.load(domain);
      const usable = cert && !this.options.store.needsRenewal(domain, new Date(now), this.renewBeforeDays);
      const due = usable ? renewalTime(cert, this.renewBeforeDays).getTime() : now;
      const retry = this.backoff.get(domain)?.retryAt.getTime() ?? 0;
      wake = Math.min(wake, Math.max(due, retry));
    }
    return Math.max(wake - now, MIN_WAKE_MS);
  }
}
