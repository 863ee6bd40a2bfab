import type { Clock } from '../clock.js';
import { RetryBudgetExhaustedError } from '../client/errors.js';
import type { StopReason } from './summary.js';

/** How long in-flight requests may take to finish after a stop before they are abandoned. */
const GRACE_MS = 10_000;

export interface StopOptions {
  clock: Clock;
  /** Aborted on Ctrl-C / SIGTERM: stop, interrupted (exit 130). */
  signal?: AbortSignal;
  /** Stop, resumably, once the run is this old (--max-duration). */
  maxDurationMs?: number;
  /** Stop after this many failed records (--max-errors). */
  maxErrors?: number;
  /** Stop at the first failed record (--fail-fast). */
  failFast?: boolean;
  /** Told once, when the run starts stopping. */
  onStopping?: (reason: StopReason) => void;
}

/**
 * Decides when an ingest stops, in one place. A clean stop (a signal, --max-duration,
 * --max-errors, --fail-fast, an exhausted retry budget) ends reading, lets in-flight requests
 * settle for a grace period and leaves the run resumable; a fatal error (401/403/402, a bug)
 * ends it the same way but aborts the run with that error. The first reason wins.
 */
export class StopController {
  reason: StopReason | null = null;
  /** The error that ends the run, if one did. */
  fatal: unknown = undefined;
  private readonly waiters = new Set<() => void>();
  private readonly abandonment = new AbortController();
  private readonly deadline = new AbortController();
  private readonly offSignal: () => void;

  constructor(private readonly o: StopOptions) {
    const onAbort = () => this.request('interrupted');
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    this.offSignal = () => o.signal?.removeEventListener('abort', onAbort);
    if (o.maxDurationMs !== undefined) {
      o.clock.sleep(o.maxDurationMs, this.deadline.signal).then(
        () => this.request('max-duration'),
        () => {},
      );
    }
  }

  /** True once the run is stopping, cleanly or not: read nothing more. */
  get halted(): boolean {
    return this.reason !== null || this.fatal !== undefined;
  }

  /** Aborted when the requests still in flight after the grace period are given up. */
  get abandon(): AbortSignal {
    return this.abandonment.signal;
  }

  /** Stops cleanly for `reason` (the first reason is kept). */
  request(reason: StopReason): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.o.onStopping?.(reason);
    this.wake();
  }

  /** An error ended the run; an exhausted retry budget is a clean, resumable stop instead. */
  fail(err: unknown): void {
    if (err instanceof RetryBudgetExhaustedError) return this.request('retry-budget');
    if (this.fatal === undefined) this.fatal = err;
    this.wake();
  }

  /** A record failed; `failed` is the count so far. */
  noteFailure(failed: number): void {
    if (this.o.failFast) this.request('fail-fast');
    else if (this.o.maxErrors !== undefined && failed >= this.o.maxErrors)
      this.request('max-errors');
  }

  /**
   * `next`, or undefined as soon as the run stops (a stdin read may never answer). The waiter
   * is removed when either comes first, so nothing piles up per read.
   */
  race<T>(next: Promise<T>): Promise<T | undefined> {
    if (this.halted) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const onStop = () => resolve(undefined);
      this.waiters.add(onStop);
      next.then(
        (v) => {
          this.waiters.delete(onStop);
          resolve(v);
        },
        (err: unknown) => {
          this.waiters.delete(onStop);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  /**
   * Waits for `inFlight`; once the run is stopping, only for the grace period, after which
   * what is still in flight is abandoned (`abandon` aborts; documents with an id stay unsent
   * and a resume sends them again).
   */
  async settle(inFlight: Promise<unknown>): Promise<void> {
    if (!this.halted) {
      await inFlight;
      return;
    }
    const grace = new AbortController();
    const timer = this.o.clock
      .sleep(GRACE_MS, grace.signal)
      .then(() => this.abandonment.abort(new Error('stopped')))
      .catch(() => {});
    await inFlight;
    grace.abort();
    await timer;
  }

  /** --max-duration bounds the sending, not the --wait that follows it. */
  endDeadline(): void {
    this.deadline.abort();
  }

  /** Releases the signal listener and the deadline timer. */
  dispose(): void {
    this.endDeadline();
    this.offSignal();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
    this.waiters.clear();
  }
}
