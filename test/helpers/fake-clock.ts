import type { Clock } from '../../src/clock.js';
import { abortReason } from '../../src/clock.js';

interface Timer {
  due: number;
  seq: number;
  resolve: () => void;
}

/** Lets every pending promise continuation (and whatever it schedules) run. */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A Clock driven by the test: time moves only in advance(). Sleepers wake in due order (ties in
 * the order they went to sleep), and pending microtasks run between two wake-ups, so code that
 * reacts to one timer can schedule the next before time moves on.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const timer: Timer = {
        due: this.t + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Sleepers not yet woken. */
  pending(): number {
    return this.timers.length;
  }

  /** When the next sleeper is due, or undefined when nobody sleeps. */
  nextDue(): number | undefined {
    return this.timers.length === 0 ? undefined : Math.min(...this.timers.map((x) => x.due));
  }

  /** Moves time forward by `ms`, waking every sleeper due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await flushMicrotasks();
      let next: Timer | undefined;
      for (const x of this.timers) {
        if (x.due > target) continue;
        if (!next || x.due < next.due || (x.due === next.due && x.seq < next.seq)) next = x;
      }
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.due);
      next.resolve();
    }
    this.t = target;
    await flushMicrotasks();
  }

  /** Advances in `step` increments until `ms` have passed (lets callbacks observe time move). */
  async run(ms: number, step = 10): Promise<void> {
    for (let done = 0; done < ms; done += step) await this.advance(Math.min(step, ms - done));
  }

  /**
   * Wakes sleepers in due order, letting each one's continuation run, until nobody is asleep.
   * Throws after `maxWakeups` (a loop that keeps sleeping forever would otherwise hang the test).
   */
  async runUntilIdle(maxWakeups = 100_000): Promise<void> {
    for (let i = 0; ; i++) {
      await flushMicrotasks();
      if (this.timers.length === 0) return;
      if (i >= maxWakeups) throw new Error(`FakeClock: still busy after ${maxWakeups} wake-ups`);
      const due = Math.min(...this.timers.map((x) => x.due));
      await this.advance(Math.max(0, due - this.t));
    }
  }
}
