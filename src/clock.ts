/**
 * Time source for everything whose behaviour depends on time (limiter, backoff, polling), so
 * tests can drive it exactly instead of sleeping.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The longest delay a Node timer holds (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      let timer: NodeJS.Timeout;
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      // A wait longer than a timer holds is slept in steps, never handed to setTimeout whole.
      const arm = (left: number) => {
        const step = Math.min(MAX_TIMER_MS, left);
        timer = setTimeout(() => {
          if (left > step) return arm(left - step);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, step);
      };
      arm(Number.isNaN(ms) ? 0 : Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error('aborted');
  err.name = 'AbortError';
  return err;
}

/**
 * Calls `fn` every `ms` on `clock` until stop(), which waits for a call in progress. `fn` must
 * not throw (a rejection would end the ticks and surface from stop()).
 */
export function every(
  clock: Clock,
  ms: number,
  fn: () => Promise<void> | void,
): { stop(): Promise<void> } {
  const ticker = new AbortController();
  const loop = (async () => {
    for (;;) {
      try {
        await clock.sleep(ms, ticker.signal);
      } catch {
        return;
      }
      await fn();
    }
  })();
  return {
    async stop() {
      ticker.abort();
      await loop;
    },
  };
}
