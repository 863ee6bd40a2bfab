import pLimit, { type LimitFunction } from 'p-limit';

/** How an answered request went, as far as the server's capacity is concerned. */
export type ConcurrencyOutcome = 'ok' | 'overload' | 'neutral';

/**
 * Adaptive concurrency (AIMD) over a p-limit gate: a window between 1 and `max` in-flight
 * requests, set as the gate's `concurrency`. It grows by one per window's worth of fast, clean
 * answers, and halves on a server error or timeout, so a struggling server gets room while a
 * healthy one is kept busy. Slow answers (well above the best latency seen) shrink it gently,
 * since piling more requests on a queueing server only adds latency.
 *
 * A slot is held from acquire() to release(): the caller decides when its request is over.
 */
export class AdaptiveConcurrency {
  private readonly gate: LimitFunction;
  /** Holders' release functions, one per slot held (slots are interchangeable). */
  private readonly held: (() => void)[] = [];
  private credit = 0;
  private minLatency = Infinity;

  /** Starts at `max` (what the user allows); the first overload halves it. */
  constructor(private readonly max: number) {
    this.gate = pLimit(Math.max(1, max));
  }

  current(): number {
    return this.gate.concurrency;
  }

  /** Slots held. */
  inFlight(): number {
    return this.held.length;
  }

  /** Waits for a free slot (first come, first served) and holds it until release(). */
  acquire(): Promise<void> {
    return new Promise<void>((resolve) => {
      void this.gate(
        () =>
          new Promise<void>((free) => {
            this.held.push(free);
            resolve();
          }),
      );
    });
  }

  /**
   * Frees a slot. `outcome`: 'ok' (answered), 'overload' (5xx, timeout, reset), or 'neutral'
   * (429s and client errors say nothing about the server's capacity).
   */
  release(outcome: ConcurrencyOutcome, latencyMs?: number): void {
    this.held.pop()?.();
    let limit = this.gate.concurrency;
    if (outcome === 'overload') {
      limit = Math.max(1, Math.floor(limit / 2));
      this.credit = 0;
    } else if (outcome === 'ok' && latencyMs !== undefined) {
      this.minLatency = Math.min(this.minLatency, latencyMs);
      if (latencyMs > this.minLatency * 4 + 50 && limit > 1) {
        this.credit -= 1;
        if (this.credit <= -limit) {
          limit -= 1;
          this.credit = 0;
        }
      } else {
        this.credit += 1;
        if (this.credit >= limit && limit < this.max) {
          limit += 1;
          this.credit = 0;
        }
      }
    }
    if (limit !== this.gate.concurrency) this.gate.concurrency = limit;
  }
}
