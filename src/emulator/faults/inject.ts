import type { Clock } from '../../clock.js';
import type { MemoryStatusResponse } from '../../client/types.js';
import {
  zeroFaultCounters,
  type EmulatorFaults,
  type ErrorFormat,
  type FaultCounter,
  type RouteGroup,
} from './table.js';

/**
 * Where the emulator departs from the service on purpose, because a test or a drill asked for
 * it: latency and spikes, injected 503s, connections dropped after a write, 429 storms, absent
 * route groups and the shape of error bodies. The handler asks this object at fixed points of a
 * request; without faults set, each answer is "nothing injected", and what the emulator does is
 * the service's contract alone. The values are the running emulator's (`setFaults` changes the
 * same object); the random source is the emulator's (seeded in tests), drawn in request order;
 * latency is waited on the emulator's clock, like the rest of its time (a test's fake clock).
 */
export class FaultInjector {
  /** The `faults` counters of GET /_emulator/stats. */
  readonly counters = zeroFaultCounters();
  /** End of the current 429 storm; 0 when none is raging. */
  private stormUntil = 0;

  constructor(
    private readonly faults: EmulatorFaults,
    private readonly random: () => number,
    private readonly clock: Clock,
  ) {}

  count(name: FaultCounter): void {
    this.counters[name]++;
  }

  /** Whether a fault of this probability strikes now, counted (no draw when it is unset or 0). */
  private strikes(rate: number | undefined, counter: FaultCounter): boolean {
    if (!(rate !== undefined && rate > 0 && this.random() < rate)) return false;
    this.count(counter);
    return true;
  }

  /** Route groups this deployment lacks (they answer 404). */
  absentRoutes(): Set<RouteGroup> {
    return new Set<RouteGroup>(this.faults.absentRoutes);
  }

  errorFormat(): ErrorFormat {
    return this.faults.errorFormat ?? 'fastapi';
  }

  /** Added latency (±50% jitter) and latency spikes, before an API request is looked at. */
  async delay(): Promise<void> {
    const { latencyMs, spikeRate } = this.faults;
    if (latencyMs && latencyMs > 0) await this.clock.sleep(latencyMs * (0.5 + this.random()));
    if (this.strikes(spikeRate, 'spikes')) {
      await this.clock.sleep(this.faults.spikeMs ?? 1000);
    }
  }

  /**
   * 429 storms: a request may set one off; while it rages every API request is refused. The
   * milliseconds left of the storm raging at `now` (counted as a refusal), or undefined.
   */
  stormLeft(now: number): number | undefined {
    if (now >= this.stormUntil && this.strikes(this.faults.stormRate, 'storms')) {
      this.stormUntil = now + (this.faults.stormMs ?? 2000);
    }
    if (now >= this.stormUntil) return undefined;
    this.count('storm_refusals');
    return this.stormUntil - now;
  }

  /**
   * An ingestion's status as `--end-status` has it end: a completed one answers that final status
   * instead (its error message saying so); any other is left as the service gives it.
   */
  endStatus(status: MemoryStatusResponse): MemoryStatusResponse {
    const { endStatus } = this.faults;
    if (!endStatus || status.status !== 'completed') return status;
    this.count('ended_otherwise');
    return {
      ...status,
      status: endStatus,
      memories_created: 0,
      memory_ids: [],
      error_message: `ingestion ended ${endStatus} (emulator --end-status)`,
    };
  }

  /** Whether this request is answered with an injected 503. */
  fails(): boolean {
    return this.strikes(this.faults.failRate, 'failures');
  }

  /** Whether the connection is dropped after the request's write was committed. */
  resets(): boolean {
    return this.strikes(this.faults.resetRate, 'resets');
  }
}
