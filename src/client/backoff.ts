import { StoppedEarlyError } from '../errors.js';

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 20_000 };

/**
 * "Full jitter" exponential backoff: a uniform wait in [0, min(cap, base·2^(attempt-1))].
 * Spreading retries over the whole interval keeps many workers from retrying in lockstep.
 * `attempt` is 1 for the first retry.
 */
export function fullJitterDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

export class RetryBudgetExhaustedError extends StoppedEarlyError {
  constructor() {
    super('too many failed requests: the retry budget is exhausted; the server looks unhealthy', {
      hints: ['Progress is saved; run the same command again later to continue.'],
    });
  }
}

/**
 * Limits retries to a share of the traffic: every first attempt earns `ratio` of a retry,
 * every retry spends one. A run against a healthy server with occasional errors never runs
 * dry; a run against a failing server stops instead of hammering it forever.
 */
export class RetryBudget {
  private tokens: number;
  retries = 0;

  constructor(
    private readonly opts: { initial: number; ratio: number; max: number } = {
      initial: 20,
      ratio: 0.2,
      max: 200,
    },
  ) {
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
    this.retries += 1;
    return true;
  }

  get remaining(): number {
    return this.tokens;
  }
}
