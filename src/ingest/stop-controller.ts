import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock.js';
import { RetryAfterTooLongError, RetryBudgetExhaustedError } from '../client/errors.js';
import { ExitCode, InterruptedError } from '../errors.js';
import type { IngestRunOptions } from './options.js';
import type { StopReason } from './summary.js';

/**
 * How long requests on the wire may take to finish after a stop before they are abandoned.
 * Requests not on the wire (waiting for a slot, the rate limiter, a Retry-After or a backoff)
 * are abandoned at once.
 */
const GRACE_MS = 10_000;

/**
 * The run's options that stop it: `signal` (Ctrl-C / SIGTERM: interrupted, exit 130 or 143),
 * `maxDurationMs` (the run's age, --wait included), `maxErrors`, `failFast`.
 */
type StopOptions = Pick<IngestRunOptions, 'signal' | 'maxDurationMs' | 'maxErrors' | 'failFast'> & {
  clock: Clock;
  /** Told once, when the run starts stopping. */
  onStopping?: (reason: StopReason) => void;
};

/** Stops after which the run ends now: waits end and nothing more is sent. */
const HURRIED: ReadonlySet<StopReason> = new Set<StopReason>([
  'interrupted',
  'max-duration',
  'retry-budget',
  'retry-after',
]);

/**
 * Decides when an ingest stops, in one place. A clean stop (a signal, --max-duration,
 * --max-errors, --fail-fast, an exhausted retry budget, a Retry-After past --max-retry-after)
 * ends reading and leaves the run resumable; a fatal error (401/403/402, a bug) ends it the
 * same way but aborts the run with that error. The first reason wins.
 *
 * What a stop bounds: from the moment it is asked for, requests on the wire get GRACE_MS to
 * finish (then `abandon` aborts them), and so does a wait for a concurrency slot. A stop that
 * must end the run now (a signal, --max-duration, the server's refusals, a fatal error) also
 * aborts `hurry` at once: rate-limiter, Retry-After and backoff waits end and nothing new is
 * sent. --max-errors and --fail-fast leave the server in good health: what was read is still
 * sent, so the failures file holds the failure that stopped the run.
 */
export class StopController {
  reason: StopReason | null = null;
  /** The error that ends the run, if one did. */
  fatal: unknown = undefined;
  /** What made a clean stop, when an error did (e.g. the server's too long Retry-After). */
  stopError: Error | undefined;
  /** Aborted once the run is stopping (`halted`). */
  private readonly stopped = new AbortController();
  private readonly hurried = new AbortController();
  private readonly abandonment = new AbortController();
  /** Aborted when the run must end now: nothing new is sent, no wait goes on. */
  readonly hurry = this.hurried.signal;
  /** Aborted when the requests still in flight after the grace period are given up. */
  readonly abandon = this.abandonment.signal;
  /** Aborted by dispose(): ends the timers and removes the signal's listener. */
  private readonly disposed = new AbortController();
  private graceStarted = false;

  constructor(private readonly o: StopOptions) {
    // Every request in flight and every waiter listens to these two: one listener each is the
    // design, not a leak, whatever the concurrency.
    setMaxListeners(0, this.hurry, this.abandon);
    const onAbort = () => this.request('interrupted');
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true, signal: this.disposed.signal });
    if (o.maxDurationMs !== undefined) {
      o.clock.sleep(o.maxDurationMs, this.disposed.signal).then(
        () => this.request('max-duration'),
        () => {},
      );
    }
  }

  /** True once the run is stopping, cleanly or not: read nothing more. */
  get halted(): boolean {
    return this.reason !== null || this.fatal !== undefined;
  }

  /** The exit code of an interrupted run: 143 when SIGTERM stopped it, else 130. */
  get interruptedExitCode(): typeof ExitCode.INTERRUPTED | typeof ExitCode.TERMINATED {
    const reason: unknown = this.o.signal?.reason;
    return reason instanceof InterruptedError && reason.exitCode === ExitCode.TERMINATED
      ? ExitCode.TERMINATED
      : ExitCode.INTERRUPTED;
  }

  /** Stops cleanly for `reason` (the first reason is kept; a later one may still hurry it). */
  request(reason: StopReason): void {
    if (HURRIED.has(reason)) this.hurryUp();
    if (this.reason !== null) return;
    this.reason = reason;
    this.o.onStopping?.(reason);
    this.wake();
  }

  /**
   * An error ended the run. An exhausted retry budget and a Retry-After longer than the
   * caller waits are clean, resumable stops instead.
   */
  fail(err: unknown): void {
    if (err instanceof RetryBudgetExhaustedError) return this.request('retry-budget');
    if (err instanceof RetryAfterTooLongError) {
      if (this.reason === null) this.stopError = err;
      return this.request('retry-after');
    }
    if (this.fatal === undefined) this.fatal = err;
    this.hurryUp();
    this.wake();
  }

  /** A record failed; `failed` is the count so far. */
  noteFailure(failed: number): void {
    if (this.o.failFast) this.request('fail-fast');
    else if (this.o.maxErrors !== undefined && failed >= this.o.maxErrors)
      this.request('max-errors');
  }

  /** `next`, or undefined as soon as the run stops (a stdin read may never answer). */
  race<T>(next: Promise<T>): Promise<T | undefined> {
    return unlessAborted(next, this.stopped.signal);
  }

  /**
   * `promise`, or undefined once the requests in flight are abandoned (GRACE_MS after the stop):
   * a wait for a concurrency slot is bounded like a request on the wire.
   */
  untilAbandoned<T>(promise: Promise<T>): Promise<T | undefined> {
    return unlessAborted(promise, this.abandon);
  }

  /** Releases the signal listener and the timers. */
  dispose(): void {
    this.disposed.abort();
  }

  private hurryUp(): void {
    if (!this.hurry.aborted) this.hurried.abort(new Error('stopped'));
  }

  private wake(): void {
    if (!this.graceStarted) {
      this.graceStarted = true;
      this.o.clock
        .sleep(GRACE_MS, this.disposed.signal)
        .then(() => this.abandonment.abort(new Error('stopped')))
        .catch(() => {});
    }
    this.stopped.abort();
  }
}

/**
 * `promise`, or undefined as soon as `signal` aborts. The listener is removed when either comes
 * first, so nothing piles up per call.
 */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
