import type { RateHeaders } from '../../src/client/server-mirror.js';
import { RateLimiter } from '../../src/client/limiter.js';
import { FakeClock } from './fake-clock.js';

/** Most events inside any closed span of `windowMs` (spans start at an event); times sorted. */
export function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[j]! < times[i]! - windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/**
 * A simulated rate-limited server on a FakeClock, counting like the emulator does: a token
 * bucket (burst, refilled at rpm per minute; Reset = when full, whole seconds rounded up) or a
 * fixed one-minute window of rpm requests aligned to the minute (Reset = its end).
 */
class SimulatedServer {
  private tokens: number;
  private at: number;
  private windowStart = -1;
  private used = 0;
  private pausedUntil = new Map<string, number>();
  readonly accepted: number[] = [];
  readonly refused: number[] = [];
  /** Requests that arrived before the Retry-After last announced to their sender had passed. */
  early = 0;

  constructor(
    private readonly clock: FakeClock,
    readonly kind: 'bucket' | 'window',
    readonly rpm: number,
    readonly burst: number,
    /** How far the server's clock is behind ours (its windows start that much later). */
    private readonly lagMs = 0,
  ) {
    this.tokens = burst;
    this.at = clock.now();
  }

  /** One request from `who`: accepted or refused, with the headers of the answer. */
  take(who = 'us'): { ok: boolean; headers: RateHeaders; retryAfterS: number } {
    const now = this.clock.now();
    if (now < (this.pausedUntil.get(who) ?? 0)) this.early += 1;
    const perMs = this.rpm / 60_000;
    let ok: boolean;
    let remaining: number;
    let resetEpochS: number;
    let retryAfterS = 0;
    if (this.kind === 'bucket') {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.at) * perMs);
      this.at = now;
      ok = this.tokens >= 1 - 1e-9;
      if (ok) this.tokens = Math.max(0, this.tokens - 1);
      else retryAfterS = Math.max(1, Math.ceil((1 - this.tokens) / perMs / 1000 - 1e-9));
      remaining = Math.floor(this.tokens + 1e-9);
      resetEpochS = Math.ceil((now + (this.burst - this.tokens) / perMs) / 1000);
    } else {
      const serverNow = now - this.lagMs;
      const start = Math.floor(serverNow / 60_000) * 60_000;
      if (start !== this.windowStart) {
        this.windowStart = start;
        this.used = 0;
      }
      ok = this.used < this.rpm;
      if (ok) this.used += 1;
      else retryAfterS = Math.max(1, Math.ceil((start + 60_000 - serverNow) / 1000));
      remaining = this.rpm - this.used;
      resetEpochS = (start + 60_000) / 1000;
    }
    if (ok && who === 'us') this.accepted.push(now);
    if (!ok) {
      if (who === 'us') this.refused.push(now);
      this.pausedUntil.set(who, now + retryAfterS * 1000);
    }
    return { ok, headers: { limit: this.rpm, remaining, resetEpochS }, retryAfterS };
  }
}

export interface SimulationOptions {
  kind: 'bucket' | 'window';
  rpm: number;
  burst: number;
  /** Concurrent senders sharing the limiter. */
  workers: number;
  /** One-way latency to the server, ms: [min, max] uniform (seeded), or a fixed value. */
  latencyMs: number | [number, number];
  seconds: number;
  /** Start of the run (epoch ms; where in a minute-aligned window it begins). */
  start?: number;
  limiter?: (clock: FakeClock) => RateLimiter;
  /** Another client on the same key: requests per minute, evenly spaced. */
  otherRpm?: number;
  /** The server's clock is this far behind ours. */
  serverLagMs?: number;
  /** Whether answers carry X-RateLimit-* headers (default true). */
  headers?: boolean;
}

/** Runs `workers` senders through one RateLimiter against a SimulatedServer; returns both. */
export async function simulate(opts: SimulationOptions) {
  const clock = new FakeClock(opts.start ?? 1_700_000_000_000);
  const limiter = opts.limiter?.(clock) ?? new RateLimiter({ clock });
  const server = new SimulatedServer(clock, opts.kind, opts.rpm, opts.burst, opts.serverLagMs);
  const start = clock.now();
  const end = start + opts.seconds * 1000;
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const oneWay = () =>
    typeof opts.latencyMs === 'number'
      ? opts.latencyMs
      : opts.latencyMs[0] + random() * (opts.latencyMs[1] - opts.latencyMs[0]);
  const workers = Array.from({ length: opts.workers }, async () => {
    while (clock.now() < end) {
      const ticket = await limiter.acquire();
      if (clock.now() >= end) {
        limiter.settle(ticket);
        return;
      }
      const sentAt = clock.now();
      await clock.sleep(oneWay());
      const d = server.take();
      await clock.sleep(oneWay());
      limiter.settle(ticket, opts.headers === false ? undefined : d.headers, !d.ok);
      if (d.ok) limiter.onSuccess();
      else limiter.onRateLimited(d.retryAfterS * 1000, sentAt);
    }
  });
  const other = opts.otherRpm
    ? (async () => {
        const every = 60_000 / opts.otherRpm!;
        let wait = 0;
        while (clock.now() < end) {
          await clock.sleep(Math.max(every, wait));
          const d = server.take('other');
          wait = d.ok ? 0 : d.retryAfterS * 1000;
        }
      })()
    : Promise.resolve();
  await clock.run(opts.seconds * 1000 + 2000, 50);
  await clock.runUntilIdle();
  await Promise.all([...workers, other]);
  return { server, limiter, start, end };
}
