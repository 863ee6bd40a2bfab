import { RetryAfterTooLongError, RetryBudgetExhaustedError, type SynapError } from './errors.js';

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/**
 * How every call is retried, in one value: built in the session, handed to the client (and
 * through it to the ingest sender), printed once by `--verbose`. What a failure says about
 * sending again is its row of the status table (errors.ts, carried on the error); what to do
 * about it is decided here, and only here.
 */
export interface RetryPolicy {
  /** Attempts of one call for a transient failure (5xx, timeout, reset), the first included. */
  attempts: number;
  /** Full-jitter exponential backoff between those attempts. */
  backoff: BackoffPolicy;
  /**
   * Retries as a share of the traffic: every first attempt earns `ratio` of a retry (at most
   * `max` saved up, `initial` to start with). Running dry stops the run, resumably (exit 5).
   */
  budget: { initial: number; ratio: number; max: number };
  /**
   * A 429 means the request was not processed, so any call may be sent again once its
   * Retry-After has passed; without one, wait `minMs` plus a full-jitter `fallback` backoff.
   * One call gives up after `maxWaits` of them.
   */
  rateLimit: { maxWaits: number; minMs: number; fallback: BackoffPolicy };
  /**
   * The longest Retry-After waited out (`--max-retry-after`). A server asking for more is not
   * slept on for hours: the call ends with RetryAfterTooLongError, a resumable stop (exit 5).
   */
  maxRetryAfterMs: number;
  /**
   * The Retry-After of a 5xx whose row honours it (502, 503) is waited out (for that call only,
   * at least the backoff), up to this long.
   */
  maxServiceUnavailableWaitMs: number;
  /** One attempt, connection to last byte. */
  attemptTimeoutMs: number;
  /**
   * A failure after which the request may have been applied (`SynapError.mayHaveApplied`: a
   * timeout, a reset, an unreadable answer, a 408, a 5xx other than 503). 'retry-idempotent'
   * (`--on-ambiguous retry`) repeats only calls that cannot duplicate anything: reads, deletes,
   * a replacing update, and creates whose documents all carry a document_id (a repeat comes
   * back "already ingested" instead of being stored and billed twice); 'never' (`--on-ambiguous
   * fail`) repeats none, and the ingest records such documents as OUTCOME_UNKNOWN. Failures
   * that leave no doubt (a 503, a refused connection) are retried either way.
   */
  ambiguous: 'retry-idempotent' | 'never';
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  backoff: { baseMs: 500, capMs: 20_000 },
  budget: { initial: 20, ratio: 0.2, max: 200 },
  rateLimit: { maxWaits: 50, minMs: 1000, fallback: { baseMs: 1000, capMs: 10_000 } },
  maxRetryAfterMs: 15 * 60_000,
  maxServiceUnavailableWaitMs: 60_000,
  attemptTimeoutMs: 30_000,
  ambiguous: 'retry-idempotent',
};

/** May a call that failed ambiguously be sent again? `idempotent`: repeating it cannot duplicate. */
export function repeatsAmbiguous(policy: RetryPolicy, idempotent: boolean): boolean {
  return policy.ambiguous === 'retry-idempotent' && idempotent;
}

/** May a call that failed with `error` be sent again, as far as duplicates go? */
export function mayRepeat(policy: RetryPolicy, idempotent: boolean, error: SynapError): boolean {
  return !error.mayHaveApplied || repeatsAmbiguous(policy, idempotent);
}

/**
 * "Full jitter" exponential backoff: a uniform wait in [0, min(cap, base·2^(attempt-1))].
 * Spreading retries over the whole interval keeps many workers from retrying in lockstep.
 * `attempt` is 1 for the first retry.
 */
export function fullJitterDelay(attempt: number, backoff: BackoffPolicy, random: () => number) {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * The retry budget of one client (see RetryPolicy.budget). A run against a healthy server with
 * occasional errors never runs dry; a run against a failing server stops instead of hammering it.
 */
export class RetryBudget {
  private tokens: number;

  constructor(private readonly opts: RetryPolicy['budget']) {
    this.tokens = opts.initial;
  }

  /** Record a first attempt. */
  deposit(): void {
    this.tokens = Math.min(this.opts.max, this.tokens + this.opts.ratio);
  }

  /** Take one retry, or false when none is left. */
  tryWithdraw(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * The retry decisions of one call under a policy: after each failed attempt, how long to wait
 * before the next one, or the error that ends the call.
 */
export class CallRetries {
  private failures = 0;
  private rateLimitWaits = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly budget: RetryBudget,
    /** Repeating this call cannot duplicate anything (see RetryPolicy.ambiguous). */
    private readonly idempotent: boolean,
    private readonly random: () => number,
  ) {
    budget.deposit();
  }

  /**
   * After a failed attempt, by what the error says (SynapError.retry): the wait before the next
   * one and whether every worker of the key pauses for it (a 429); throws the error that ends
   * the call.
   */
  next(error: SynapError): { waitMs: number; pausesAll: boolean } {
    switch (error.retry) {
      case 'rate-limit':
        return { waitMs: this.afterRateLimit(error), pausesAll: true };
      case 'backoff':
        return { waitMs: this.afterTransient(error), pausesAll: false };
      default:
        throw error;
    }
  }

  /** A 429: the wait before sending again (every worker pauses too), or the error to throw. */
  afterRateLimit(error: SynapError): number {
    this.rateLimitWaits += 1;
    if (this.rateLimitWaits > this.policy.rateLimit.maxWaits) throw error;
    const asked = error.retryAfterMs;
    if (asked !== undefined && asked > this.policy.maxRetryAfterMs) {
      throw new RetryAfterTooLongError(asked, this.policy.maxRetryAfterMs, error.retryAfterHeader);
    }
    return (
      error.retryAfterMs ??
      fullJitterDelay(this.rateLimitWaits, this.policy.rateLimit.fallback, this.random) +
        this.policy.rateLimit.minMs
    );
  }

  /** Whether one more transient failure like `error` would still be retried (the budget aside). */
  retriesNextFailure(error: SynapError): boolean {
    return (
      mayRepeat(this.policy, this.idempotent, error) && this.failures + 1 < this.policy.attempts
    );
  }

  /**
   * A transient failure (the caller counts it first): the wait before the next attempt, at
   * least `floorMs` (the Retry-After the error carries), or the error that ends the call.
   */
  afterTransient(error: SynapError, floorMs = error.retryAfterMs ?? 0): number {
    this.failures += 1;
    if (!mayRepeat(this.policy, this.idempotent, error) || this.failures >= this.policy.attempts) {
      throw error;
    }
    if (!this.budget.tryWithdraw()) throw new RetryBudgetExhaustedError();
    const floor = Math.min(this.policy.maxServiceUnavailableWaitMs, floorMs);
    return Math.max(floor, fullJitterDelay(this.failures, this.policy.backoff, this.random));
  }
}
