import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/client/limiter.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { maxInWindow, simulate } from '../helpers/rate-server.js';

/**
 * The limiter against a simulated server on the injected clock (test/helpers/rate-server.ts),
 * counting as a token bucket or as a fixed one-minute window, with X-RateLimit-* headers.
 */

type Latency = number | [number, number];
const LATENCIES: [string, Latency][] = [
  ['1 ms', 1],
  ['50 ms', 50],
  ['1-50 ms jitter', [1, 50]],
];
const TIERS = [
  { rpm: 60, burst: 10, workers: 8 },
  { rpm: 600, burst: 50, workers: 8 },
  { rpm: 6000, burst: 1000, workers: 16 },
];
/** 20 s into a minute, so the run crosses window boundaries. */
const START = Date.UTC(2026, 0, 1, 12, 0, 20);
const SECONDS = 130;

describe('ServerMirror against a token-bucket server', () => {
  const cases = TIERS.flatMap((t) => LATENCIES.map(([name, latency]) => ({ ...t, name, latency })));
  it.each(cases)(
    '$rpm/min, burst $burst, $name: ≥ 0.99 of burst + rate × elapsed, no 429',
    async ({ rpm, burst, workers, latency }) => {
      const { server, limiter } = await simulate({
        kind: 'bucket',
        rpm,
        burst,
        workers,
        latencyMs: latency,
        seconds: SECONDS,
        start: START,
      });
      const acc = server.accepted;
      const elapsed = acc[acc.length - 1]! - acc[0]!;
      const allowed = burst + (rpm / 60_000) * elapsed;
      expect(acc.length / allowed).toBeGreaterThanOrEqual(0.99);
      expect(acc.length).toBeLessThanOrEqual(Math.floor(allowed) + 1);
      expect(server.refused).toEqual([]);
      expect(server.early).toBe(0);
      expect(limiter.stats()).toMatchObject({ model: 'bucket', source: 'headers', rpm });
    },
  );
  it('600/min, burst 50, slow and uneven round trips (100-300 ms each way): still ≥ 0.99, no 429', async () => {
    const { server } = await simulate({
      kind: 'bucket',
      rpm: 600,
      burst: 50,
      workers: 8,
      latencyMs: [100, 300],
      seconds: 60,
      start: START,
    });
    const acc = server.accepted;
    const allowed = 50 + (600 / 60_000) * (acc[acc.length - 1]! - acc[0]!);
    expect(acc.length / allowed).toBeGreaterThanOrEqual(0.99);
    expect(server.refused).toEqual([]);
  });
  it('a bucket of 1 (below the first requests sent): the three over it are refused once, then one a second', async () => {
    const { server, start } = await simulate({
      kind: 'bucket',
      rpm: 60,
      burst: 1,
      workers: 4,
      latencyMs: 5,
      seconds: 30,
      start: START,
    });
    expect(server.refused.map((t) => t - start)).toEqual([5, 5, 5]);
    const acc = server.accepted;
    expect(acc.length / (1 + (acc[acc.length - 1]! - acc[0]!) / 1000)).toBeGreaterThanOrEqual(0.98);
  });
});

describe('ServerMirror against a fixed-window server', () => {
  const cases = TIERS.flatMap((t) => LATENCIES.map(([name, latency]) => ({ ...t, name, latency })));
  it.each(cases)(
    '$rpm per minute window, $name: every window used to the full from its first instant, no 429',
    async ({ rpm, workers, latency }) => {
      const { server, limiter } = await simulate({
        kind: 'window',
        rpm,
        burst: 1,
        workers,
        latencyMs: latency,
        seconds: SECONDS + 40,
        start: START,
      });
      expect(server.refused).toEqual([]);
      expect(server.early).toBe(0);
      expect(limiter.stats().model).toBe('window');
      const maxOneWay = typeof latency === 'number' ? latency : latency[1];
      // The first (partial) window and the two whole ones after it.
      for (let w = 0; w < 3; w++) {
        const from = START - 20_000 + w * 60_000;
        const inWindow = server.accepted.filter((t) => t >= from && t < from + 60_000);
        expect(inWindow.length, `window ${w}`).toBe(rpm);
        // Whole windows: the first request reaches the server as soon as it can.
        if (w > 0)
          expect(inWindow[0]! - from, `window ${w} start`).toBeLessThanOrEqual(maxOneWay + 2);
      }
    },
  );

  it('a server clock behind ours: one refused probe per window until the roll is late enough', async () => {
    const lagMs = 300;
    const { server, limiter } = await simulate({
      kind: 'window',
      rpm: 600,
      burst: 1,
      workers: 8,
      latencyMs: 5,
      seconds: 250,
      start: START,
      serverLagMs: lagMs,
    });
    const windowStart = (w: number) => START - 20_000 + lagMs + w * 60_000;
    // The first request after each roll goes alone: a refusal costs one request, not eight.
    // Waiting 25, then 100, then 400 ms after Reset, the fourth roll is late enough.
    expect(server.refused.map((t) => Math.round((t - windowStart(0)) / 60_000))).toEqual([1, 2, 3]);
    for (let w = 1; w <= 4; w++) {
      const inWindow = server.accepted.filter((t) => t >= windowStart(w) && t < windowStart(w + 1));
      expect(inWindow, `window ${w}`).toHaveLength(600);
    }
    const fourth = server.accepted.find((t) => t >= windowStart(4))!;
    expect(fourth - windowStart(4)).toBeLessThan(400 - lagMs + 20);
    expect(server.early).toBe(0);
    expect(limiter.stats().model).toBe('window');
  });
});

describe('--rate against a server with headers', () => {
  it('--rate 50% with a second client using the other half: within its share, ≤ 1% refused', async () => {
    for (const kind of ['bucket', 'window'] as const) {
      const { server, limiter, start } = await simulate({
        kind,
        rpm: 600,
        burst: 50,
        workers: 8,
        latencyMs: [1, 50],
        seconds: 120,
        start: START,
        otherRpm: 300,
        limiter: (clock) => new RateLimiter({ clock, rateShare: 0.5 }),
      });
      const acc = server.accepted.map((t) => t - start);
      // 300/min, with no more than the share of the bucket (25) on top in any span.
      for (const w of [1000, 10_000, 60_000]) {
        expect(maxInWindow(acc, w), `${kind} ${w} ms`).toBeLessThanOrEqual(25 + (300 / 60_000) * w);
      }
      expect(acc.length).toBeGreaterThanOrEqual(0.98 * 300 * 2);
      expect(server.refused.length / (acc.length + server.refused.length)).toBeLessThanOrEqual(
        0.01,
      );
      expect(limiter.stats()).toMatchObject({ rpm: 300, source: 'share' });
    }
  });

  it('--rate 300 caps the opening burst as well as the pace', async () => {
    const { server, start } = await simulate({
      kind: 'bucket',
      rpm: 600,
      burst: 50,
      workers: 8,
      latencyMs: 10,
      seconds: 60,
      start: START,
      limiter: (clock) => new RateLimiter({ clock, maxRpm: 300 }),
    });
    const acc = server.accepted.map((t) => t - start);
    for (const w of [0, 100, 1000, 10_000, 59_000]) {
      expect(maxInWindow(acc, w), `${w} ms`).toBeLessThanOrEqual(1 + (300 / 60_000) * w);
    }
    expect(acc.length).toBeGreaterThanOrEqual(300);
  });

  it('a share waits for the first answer before sending more than one request', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rateShare: 0.5 });
    const first = await limiter.acquire();
    let second = false;
    const next = limiter.acquire().then(() => (second = true));
    await clock.advance(5000);
    expect(second).toBe(false);
    limiter.settle(first, { limit: 600, remaining: 49, resetEpochS: clock.now() / 1000 + 1 });
    await clock.advance(0);
    await next;
    expect(limiter.stats()).toMatchObject({ rpm: 300, source: 'share' });
  });
});
