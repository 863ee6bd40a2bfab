import { describe, expect, it } from 'vitest';
import { KeyRateLimiter, resolveRateLimit } from '../../src/emulator/rate-limiter.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('resolveRateLimit', () => {
  it('knows the tiers and honours overrides', () => {
    expect(resolveRateLimit('free')).toEqual({ rpm: 60, burst: 10 });
    expect(resolveRateLimit('pro')).toEqual({ rpm: 600, burst: 50 });
    expect(resolveRateLimit('unlimited').rpm).toBeUndefined();
    expect(resolveRateLimit('free', 120)).toEqual({ rpm: 120, burst: 10 });
    expect(resolveRateLimit('unlimited', 120, 3)).toEqual({ rpm: 120, burst: 3 });
    expect(resolveRateLimit('unlimited', 120)).toEqual({ rpm: 120, burst: 20 });
  });
});

describe('KeyRateLimiter', () => {
  it('allows the burst, then refuses with whole-second Retry-After', async () => {
    const clock = new FakeClock(1_000_000);
    const limiter = new KeyRateLimiter({ rpm: 60, burst: 10 }, clock);
    for (let i = 9; i >= 0; i--) {
      const d = limiter.take('k');
      expect(d).toMatchObject({ limited: true, allowed: true, limit: 60, remaining: i });
    }
    const refused = limiter.take('k');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
    // Full again 10 s from now.
    if (refused.limited) expect(refused.resetAt).toBe(1_000_000 / 1000 + 10);
    await clock.advance(999);
    expect(limiter.take('k').allowed).toBe(false);
    await clock.advance(1);
    expect(limiter.take('k').allowed).toBe(true);
    expect(limiter.take('k').allowed).toBe(false);
  });

  it('accepts exactly burst + elapsed × rate over a window', async () => {
    const clock = new FakeClock(0);
    const limiter = new KeyRateLimiter({ rpm: 60, burst: 10 }, clock);
    let accepted = 0;
    for (let t = 0; t < 60_000; t += 100) {
      if (limiter.take('k').allowed) accepted++;
      await clock.advance(100);
    }
    expect(accepted).toBe(69);
  });

  it('rounds Retry-After up for slow refill rates', () => {
    const clock = new FakeClock(0);
    const limiter = new KeyRateLimiter({ rpm: 7, burst: 1 }, clock);
    expect(limiter.take('k').allowed).toBe(true);
    const d = limiter.take('k');
    // One token takes 60/7 = 8.57 s.
    expect(d).toMatchObject({ allowed: false, retryAfterSeconds: 9 });
  });

  it('keeps one bucket per key and never refills above the burst', async () => {
    const clock = new FakeClock(0);
    const limiter = new KeyRateLimiter({ rpm: 600, burst: 2 }, clock);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
    await clock.advance(3_600_000);
    const d = limiter.take('a');
    expect(d).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('unlimited never refuses', () => {
    const limiter = new KeyRateLimiter(resolveRateLimit('unlimited'), new FakeClock());
    for (let i = 0; i < 1000; i++)
      expect(limiter.take('k')).toEqual({ limited: false, allowed: true });
  });
});

describe('KeyRateLimiter as a fixed window', () => {
  it('accepts rpm requests per minute-aligned window; Remaining counts down, Reset is the next minute', async () => {
    const clock = new FakeClock(60_000 * 1000 + 45_000); // 15 s before a window ends
    const limiter = new KeyRateLimiter({ rpm: 5, burst: 1, kind: 'window' }, clock);
    for (let left = 4; left >= 0; left--) {
      expect(limiter.take('k')).toMatchObject({
        allowed: true,
        limit: 5,
        remaining: left,
        resetAt: 1001 * 60,
      });
    }
    expect(limiter.take('k')).toMatchObject({
      allowed: false,
      remaining: 0,
      retryAfterSeconds: 15,
    });
    // No refill inside the window, however long it has been.
    await clock.advance(14_999);
    expect(limiter.take('k')).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    // The next window starts whole, with its own Reset.
    await clock.advance(1);
    expect(limiter.take('k')).toMatchObject({
      allowed: true,
      remaining: 4,
      resetAt: 1002 * 60,
    });
    expect(limiter.take('other')).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('accepts exactly rpm × windows touched', () => {
    // A clock set to each moment in turn (the limiter only reads it).
    let t = 0;
    const clock = { now: () => t, sleep: () => Promise.resolve() };
    const limiter = new KeyRateLimiter({ rpm: 60, burst: 10, kind: 'window' }, clock);
    let accepted = 0;
    for (t = 30_000; t < 150_000; t += 100) {
      if (limiter.take('k').allowed) accepted++;
    }
    expect(accepted).toBe(180); // windows [0,60), [60,120), [120,180) s
  });
});
