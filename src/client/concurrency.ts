/**
 * Adaptive concurrency (AIMD): a window between 1 and `max` in-flight requests. It grows by
 * one per window's worth of fast, clean answers, and halves on a server error or timeout, so a
 * struggling server gets room while a healthy one is kept busy. Slow answers (well above the
 * best latency seen) shrink it gently, since piling more requests on a queueing server only
 * adds latency.
 */
export class AdaptiveConcurrency {
  private limit: number;
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  private credit = 0;
  private minLatency = Infinity;

  constructor(
    private readonly max: number,
    initial = Math.min(max, 4),
  ) {
    this.limit = Math.max(1, Math.min(max, initial));
  }

  current(): number {
    return this.limit;
  }

  inFlight(): number {
    return this.active;
  }

  /** Waits for a free slot. */
  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /**
   * Frees a slot. `outcome`: 'ok' (answered), 'overload' (5xx, timeout, reset), or 'neutral'
   * (429s and client errors say nothing about the server's capacity).
   */
  release(outcome: 'ok' | 'overload' | 'neutral', latencyMs?: number): void {
    this.active -= 1;
    if (outcome === 'overload') {
      this.limit = Math.max(1, Math.floor(this.limit / 2));
      this.credit = 0;
    } else if (outcome === 'ok' && latencyMs !== undefined) {
      this.minLatency = Math.min(this.minLatency, latencyMs);
      if (latencyMs > this.minLatency * 4 + 50 && this.limit > 1) {
        this.credit -= 1;
        if (this.credit <= -this.limit) {
          this.limit -= 1;
          this.credit = 0;
        }
      } else {
        this.credit += 1;
        if (this.credit >= this.limit && this.limit < this.max) {
          this.limit += 1;
          this.credit = 0;
        }
      }
    }
    while (this.active < this.limit && this.waiters.length > 0) {
      this.active += 1;
      this.waiters.shift()!();
    }
  }
}
