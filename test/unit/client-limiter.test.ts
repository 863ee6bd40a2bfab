import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency } from '../../src/client/concurrency.js';
import { limiterFor, RateLimiter } from '../../src/client/limiter.js';
import { FakeClock, flushMicrotasks } from '../helpers/fake-clock.js';
import { maxInWindow, simulate } from '../helpers/rate-server.js';

/** One worker acquiring in a loop, recording when each acquisition was granted. */
function worker(limiter: RateLimiter, clock: FakeClock, times: number[], stop: { done: boolean }) {
  return (async () => {
    while (!stop.done) {
      await limiter.acquire();
      if (stop.done) return;
      times.push(clock.now());
    }
  })();
}

describe('RateLimiter token bucket', () => {
  it('never lets more than one + rate×window through in any window, FIFO', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, maxRpm: 60 });
    const granted: { i: number; at: number }[] = [];
    const all = Array.from({ length: 25 }, (_, i) =>
      limiter.acquire().then(() => granted.push({ i, at: clock.now() - start })),
    );
    const start = clock.now();
    await clock.run(30_000, 50);
    await Promise.all(all);
    expect(granted.map((g) => g.i)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const times = granted.map((g) => g.at);
    expect(times.slice(0, 3)).toEqual([0, 1000, 2000]); // one at once, no burst
    for (const w of [500, 1000, 2500, 5000, 10_000, 20_000]) {
      expect(maxInWindow(times, w), `window ${w}`).toBeLessThanOrEqual(1 + (60 / 60_000) * w);
    }
    // ...and it does not crawl either: 24 more at 1/s after the first.
    expect(times[24]).toBeGreaterThanOrEqual(24_000);
    expect(times[24]).toBeLessThan(24_000 + 100);
  });

  it('many concurrent workers share one pace', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, maxRpm: 600 });
    const times: number[] = [];
    const stop = { done: false };
    const workers = Array.from({ length: 8 }, () => worker(limiter, clock, times, stop));
    await clock.run(60_000, 25);
    stop.done = true;
    const start = times[0]!;
    const rel = times.map((t) => t - start);
    for (const w of [100, 1000, 10_000, 59_000]) {
      expect(maxInWindow(rel, w), `window ${w}`).toBeLessThanOrEqual(1 + (600 / 60_000) * w);
    }
    // one at once + 600/min over 60 s
    expect(times.length).toBeGreaterThanOrEqual(600);
    expect(times.length).toBeLessThanOrEqual(601);
    await clock.advance(1000);
    await Promise.race([Promise.all(workers), flushMicrotasks()]);
  });

  it('an aborted waiter does not block the ones behind it', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, maxRpm: 60 });
    await limiter.acquire();
    const ac = new AbortController();
    const first = limiter.acquire(ac.signal);
    let secondAt = -1;
    const second = limiter.acquire().then(() => (secondAt = clock.now()));
    const start = clock.now();
    await clock.advance(100);
    ac.abort();
    await expect(first).rejects.toThrow();
    await clock.run(3000, 50);
    await second;
    expect(secondAt - start).toBe(1000);
  });
});

describe('RateLimiter pause on 429', () => {
  it('holds every waiter and new acquirers until Retry-After has passed, then resumes without a burst', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, maxRpm: 600 });
    const sent = Array.from({ length: 10 }, () => limiter.acquire());
    await clock.run(900, 10);
    await Promise.all(sent); // ten sent in the last second, the --rate token spent
    const t0 = clock.now();
    const granted: { i: number; at: number }[] = [];
    const waiters = [0, 1, 2].map((i) =>
      limiter.acquire().then(() => granted.push({ i, at: clock.now() - t0 })),
    );
    limiter.onRateLimited(5000);
    expect(limiter.pauseRemainingMs).toBeGreaterThan(0);
    expect(limiter.pauseRemainingMs).toBe(5000);
    await clock.run(1000, 10);
    // a newcomer during the pause waits too, behind the earlier waiters
    const late = limiter.acquire().then(() => granted.push({ i: 3, at: clock.now() - t0 }));
    await clock.run(3990, 10);
    expect(granted).toEqual([]); // t = 4990: still paused
    await clock.run(2000, 10);
    await Promise.all([...waiters, late]);
    expect(granted.map((g) => g.i)).toEqual([0, 1, 2, 3]);
    // One at a time from the end of the pause, not four at once: the --rate pace (600/min)
    // restarts empty, and the learnt pace is cut by 15% (no headers heard: 600/min → 510/min,
    // one per ~118 ms).
    expect(granted.map((g) => g.at)).toEqual([5100, 5218, 5336, 5454]);
    expect(limiter.stats().rpm).toBe(510);
    expect(limiter.pauseRemainingMs).toBe(0);
    expect(limiter.stats().pauses).toBe(1);
    expect(limiter.stats().pausedMs).toBe(5000);
  });

  it('a later 429 extends the pause; an earlier-ending one does not shorten it', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, maxRpm: 6000 });
    limiter.onRateLimited(3000);
    await clock.advance(1000);
    limiter.onRateLimited(500); // ends at 1500 < 3000: ignored
    expect(limiter.pauseRemainingMs).toBe(2000);
    limiter.onRateLimited(4000); // ends at 5000
    expect(limiter.pauseRemainingMs).toBe(4000);
    expect(limiter.stats().pauses).toBe(1);
    expect(limiter.stats().pausedMs).toBe(5000);
    let at = -1;
    const start = clock.now() - 1000;
    const p = limiter.acquire().then(() => (at = clock.now() - start));
    await clock.run(6000, 10);
    await p;
    expect(at).toBeGreaterThanOrEqual(5000);
  });

  it('an unlimited limiter (no rate known) still honours the pause', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock });
    await limiter.acquire();
    limiter.onRateLimited(2000);
    let done = false;
    const p = limiter.acquire().then(() => (done = true));
    await clock.run(1990, 10);
    expect(done).toBe(false);
    // the 429 also set a (low) learnt pace: 51/min from the one-a-second floor
    expect(limiter.stats()).toMatchObject({ rpm: 51, source: 'learned' });
    await clock.run(2000, 10);
    await p;
    expect(done).toBe(true);
  });
});

describe('RateLimiter with X-RateLimit-* headers (see client-limiter-mirror.test.ts)', () => {
  const resetIn = (clock: FakeClock, ms: number) => Math.ceil((clock.now() + ms) / 1000);

  it('lets four requests ask first, then spends what the server says remains, less what is in flight', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock });
    expect(limiter.stats()).toMatchObject({ rpm: undefined, source: 'none' });
    const asking = [];
    for (let i = 0; i < 4; i++) asking.push(await limiter.acquire());
    let granted = 0;
    const more = Array.from({ length: 50 }, () => limiter.acquire().then(() => (granted += 1)));
    await clock.advance(100);
    expect(granted).toBe(0); // nothing known yet: the first answer is awaited
    limiter.settle(asking[0]!, { limit: 600, remaining: 40, resetEpochS: resetIn(clock, 1000) });
    await clock.advance(0);
    // 40 left after the first, less the three sent with it and not yet answered.
    expect(granted).toBe(37);
    expect(limiter.stats()).toMatchObject({ rpm: 600, source: 'headers', model: 'unknown' });
    // Until the model is known nothing is assumed to come back before Reset.
    await clock.advance(500);
    expect(granted).toBe(37);
    void more;
  });

  it('remaining 0, model not yet known: one request asks when a bucket would have its token, the next waits for its answer', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const t0 = clock.now();
    const limiter = new RateLimiter({ clock });
    const a = await limiter.acquire();
    limiter.settle(a, { limit: 60, remaining: 0, resetEpochS: t0 / 1000 + 3 });
    const at: number[] = [];
    const tickets: number[] = [];
    const ask = () =>
      limiter.acquire().then((t) => {
        tickets.push(t);
        at.push(clock.now() - t0);
      });
    const first = ask();
    const second = ask();
    await clock.run(2500, 10);
    await first;
    // 60 a minute: a bucket has a token after 1 s; a window only at Reset (3 s).
    expect(at).toEqual([1000]);
    // Its answer moved Reset on by the second it took: a bucket, refilled at one a second.
    limiter.settle(tickets[0]!, { limit: 60, remaining: 0, resetEpochS: t0 / 1000 + 4 });
    await clock.run(1000, 10);
    await second;
    expect(at[1]).toBe(2500);
    expect(limiter.stats().model).toBe('bucket');
  });

  it('a --rate cap below the advertised limit wins; a share follows the limit', () => {
    const clock = new FakeClock();
    const capped = new RateLimiter({ clock, maxRpm: 100 });
    capped.settle(0, { limit: 600, remaining: 10 });
    expect(capped.stats()).toMatchObject({ rpm: 100, source: 'cap' });
    capped.settle(0, { limit: 60, remaining: 10 });
    expect(capped.stats()).toMatchObject({ rpm: 60, source: 'headers' });
    const shared = new RateLimiter({ clock, rateShare: 0.25 });
    shared.settle(0, { limit: 600, remaining: 10 });
    expect(shared.stats()).toMatchObject({ rpm: 150, source: 'share' });
  });

  it('a Limit with no Remaining: paced just under it', () => {
    const limiter = new RateLimiter({ clock: new FakeClock() });
    limiter.settle(0, { limit: 600 });
    expect(limiter.stats()).toMatchObject({ rpm: 588, source: 'headers' });
  });

  it('ignores missing or nonsensical limits', () => {
    const limiter = new RateLimiter({ clock: new FakeClock() });
    limiter.settle(0, undefined); // no X-RateLimit-Limit: no headers read
    limiter.settle(0, { limit: 0 });
    limiter.settle(0, { limit: -5, remaining: 3 });
    expect(limiter.stats().rpm).toBeUndefined();
  });

  it('with headers known, a 429 pauses but does not cut the pace', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.settle(0, { limit: 600, remaining: 5, resetEpochS: resetIn(clock, 5000) });
    limiter.onRateLimited(1000);
    expect(limiter.pauseRemainingMs).toBeGreaterThan(0);
    expect(limiter.stats()).toMatchObject({ rpm: 600, source: 'headers' });
  });
});

describe('RateLimiter AIMD without headers', () => {
  async function sendEvery(limiter: RateLimiter, clock: FakeClock, ms: number, n: number) {
    for (let i = 0; i < n; i++) {
      limiter.settle(await limiter.acquire());
      await clock.advance(ms);
    }
  }

  it('cuts the pace below the observed rate on a 429, once per pause, and climbs on success', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock });
    await sendEvery(limiter, clock, 500, 20); // 120 per minute, unlimited
    const sentAt = clock.now() - 1;
    limiter.onRateLimited(1000, sentAt);
    const cut = limiter.stats();
    expect(cut.source).toBe('learned');
    expect(cut.rpm).toBeGreaterThan(60);
    expect(cut.rpm).toBeLessThan(120);
    // another answer to a request sent before the cut: no second cut
    limiter.onRateLimited(1000, sentAt);
    expect(limiter.stats().rpm).toBe(cut.rpm);
    // a 429 for a request sent after the cut: cut again by the same factor
    await clock.advance(10);
    limiter.onRateLimited(1000, clock.now());
    const cut2 = limiter.stats().rpm!;
    expect(cut2).toBeCloseTo(cut.rpm! * 0.85, 0);
    // additive increase on success
    let prev = cut2;
    for (let i = 0; i < 50; i++) {
      limiter.onSuccess();
      const now = limiter.stats().rpm!;
      expect(now).toBeGreaterThanOrEqual(prev);
      prev = now;
    }
    expect(prev).toBeGreaterThan(cut2);
  });

  it('without any traffic history the cut starts from a safe floor', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.onRateLimited(1000);
    expect(limiter.stats().rpm).toBe(51); // 60/min × 0.85
  });

  it('never climbs above the --rate cap', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, maxRpm: 60 });
    limiter.onRateLimited(1000);
    expect(limiter.stats().rpm).toBe(51);
    for (let i = 0; i < 10_000; i++) limiter.onSuccess();
    expect(limiter.stats().rpm).toBe(60);
  });

  it('onSuccess does nothing while not learning', () => {
    const limiter = new RateLimiter({ clock: new FakeClock(), maxRpm: 100 });
    limiter.onSuccess();
    expect(limiter.stats()).toMatchObject({ rpm: 100, source: 'cap' });
  });
});

describe('limiterFor', () => {
  it('one limiter per (base URL, key), never keyed by the key itself', () => {
    const a = limiterFor('https://a.example', 'synap_key_one_1234567890');
    expect(limiterFor('https://a.example', 'synap_key_one_1234567890')).toBe(a);
    expect(limiterFor('https://a.example', 'synap_key_two_1234567890')).not.toBe(a);
    expect(limiterFor('https://b.example', 'synap_key_one_1234567890')).not.toBe(a);
  });
});

describe('AdaptiveConcurrency', () => {
  async function cycle(c: AdaptiveConcurrency, outcome: 'ok' | 'overload' | 'neutral', ms = 10) {
    await c.acquire();
    c.release(outcome, ms);
  }

  it('grows on fast clean answers up to max, never beyond', async () => {
    const c = new AdaptiveConcurrency(8);
    for (let i = 0; i < 3; i++) await cycle(c, 'overload');
    expect(c.current()).toBe(1);
    for (let i = 0; i < 200; i++) await cycle(c, 'ok');
    expect(c.current()).toBe(8);
  });

  it('halves on overload, never below 1', async () => {
    const c = new AdaptiveConcurrency(16);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      await cycle(c, 'overload');
      seen.push(c.current());
    }
    expect(seen).toEqual([8, 4, 2, 1, 1, 1]);
  });

  it('neutral outcomes (429, client errors) change nothing', async () => {
    const c = new AdaptiveConcurrency(8);
    await cycle(c, 'overload');
    for (let i = 0; i < 50; i++) await cycle(c, 'neutral');
    expect(c.current()).toBe(4);
  });

  it('slow answers shrink it gently', async () => {
    const c = new AdaptiveConcurrency(8);
    await cycle(c, 'overload');
    await cycle(c, 'ok', 10);
    for (let i = 0; i < 40; i++) await cycle(c, 'ok', 5000);
    expect(c.current()).toBeLessThan(4);
    expect(c.current()).toBeGreaterThanOrEqual(1);
  });

  it('holds acquirers beyond the limit until a slot frees', async () => {
    const c = new AdaptiveConcurrency(2);
    await c.acquire();
    await c.acquire();
    let third = false;
    const p = c.acquire().then(() => (third = true));
    await flushMicrotasks();
    expect(third).toBe(false);
    expect(c.inFlight()).toBe(2);
    c.release('neutral');
    await p;
    expect(third).toBe(true);
    expect(c.inFlight()).toBe(2);
  });

  it('a halved window lets nobody in until the holders are below it; a grown one lets waiters in at once', async () => {
    const c = new AdaptiveConcurrency(4);
    for (let i = 0; i < 4; i++) await c.acquire();
    let entered = 0;
    const waiting = Array.from({ length: 3 }, () => c.acquire().then(() => (entered += 1)));
    c.release('overload'); // 4 → 2, three still held
    await flushMicrotasks();
    expect([c.current(), c.inFlight(), entered]).toEqual([2, 3, 0]);
    c.release('neutral');
    await flushMicrotasks();
    expect(entered).toBe(0); // two held = the window
    c.release('neutral');
    await flushMicrotasks();
    expect([entered, c.inFlight()]).toEqual([1, 2]);
    // Fast answers free slots for the waiters and grow the window back by one.
    c.release('ok', 10);
    await flushMicrotasks();
    c.release('ok', 10);
    await flushMicrotasks();
    expect(c.current()).toBe(3);
    await Promise.all(waiting);
    expect([entered, c.inFlight()]).toEqual([3, 2]);
  });

  it('starts at max; max 1 stays at 1', async () => {
    expect(new AdaptiveConcurrency(3).current()).toBe(3);
    const one = new AdaptiveConcurrency(1);
    await cycle(one, 'overload');
    expect(one.current()).toBe(1);
    for (let i = 0; i < 20; i++) await cycle(one, 'ok');
    expect(one.current()).toBe(1);
  });
});

describe('RateLimiter pauseFor', () => {
  it('pauseFor holds waiters and newcomers until it ends, then paces from one token (no burst)', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, maxRpm: 600 }); // 10/s
    const t0 = clock.now();
    limiter.pauseFor(3000);
    expect(limiter.pauseRemainingMs).toBe(3000);
    const granted: number[] = [];
    const early = Array.from({ length: 3 }, () =>
      limiter.acquire().then(() => granted.push(clock.now() - t0)),
    );
    await clock.advance(1000);
    const late = Array.from({ length: 2 }, () =>
      limiter.acquire().then(() => granted.push(clock.now() - t0)),
    );
    await clock.advance(1999);
    expect(granted).toEqual([]);
    await clock.run(2000, 10);
    await Promise.all([...early, ...late]);
    // none before 3000 ms; one at 3000, then one per 100 ms (no burst)
    expect(granted).toEqual([3000, 3100, 3200, 3300, 3400]);
    expect(limiter.stats().pauses).toBe(1);
    expect(limiter.stats().pausedMs).toBe(3000);
  });

  it('pauseFor on an unlimited limiter holds everyone for that long', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.pauseFor(500);
    let done = false;
    const p = limiter.acquire().then(() => (done = true));
    await clock.advance(499);
    expect(done).toBe(false);
    await clock.advance(1);
    await p;
    expect(done).toBe(true);
    limiter.pauseFor(-5); // nonsense: no pause
    expect(limiter.pauseRemainingMs).toBe(0);
  });
});

describe('RateLimiter with an assumed or learnt rate', () => {
  it('after a 429 paces at the learnt rate, probes up on success, never above --rate', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, maxRpm: 90 });
    // Nothing sent yet: the cut starts from one a second (60/min × 0.85).
    limiter.onRateLimited(0);
    expect(limiter.stats()).toMatchObject({ rpm: 51, source: 'learned' });
    const t0 = clock.now();
    const granted: number[] = [];
    const all = Array.from({ length: 3 }, () =>
      limiter.acquire().then(() => granted.push(clock.now() - t0)),
    );
    await clock.run(2500, 1);
    await Promise.all(all);
    expect(granted).toEqual([0, 1177, 2354]);
    for (let i = 0; i < 100; i++) limiter.onSuccess();
    expect(limiter.stats().rpm).toBeGreaterThan(51);
    for (let i = 0; i < 100_000; i++) limiter.onSuccess();
    expect(limiter.stats()).toMatchObject({ rpm: 90, source: 'learned' });
  });

  it('a share of a server that advertises no limit assumes the smallest tier until a 429', async () => {
    const limiter = new RateLimiter({ clock: new FakeClock(), rateShare: 1 });
    limiter.settle(await limiter.acquire());
    expect(limiter.stats()).toMatchObject({ rpm: 60, source: 'assumed' });
    limiter.capRate(30);
    expect(limiter.stats().rpm).toBe(30);
  });
});

describe('RateLimiter against a simulated token-bucket server without headers (600/min, burst 50, 8 workers)', () => {
  it('≥85% of the limit after warm-up, few 429s, nothing sent during a pause but what was in flight', async () => {
    const base = { kind: 'bucket' as const, rpm: 600, burst: 50, workers: 8, seconds: 120 };
    const { server, limiter, start } = await simulate({ ...base, latencyMs: 40, headers: false });
    const warm = start + 10_000;
    const end = start + base.seconds * 1000;
    const after = server.accepted.filter((t) => t > warm && t <= end).length;
    const allowedAfter = (base.rpm / 60) * ((end - warm) / 1000);
    expect(after / allowedAfter).toBeGreaterThanOrEqual(0.85);
    const refusedAfter = server.refused.filter((t) => t > warm).length;
    expect(refusedAfter / (after + refusedAfter)).toBeLessThan(0.03);
    // at most the other workers' requests already in flight when a 429 was sent
    expect(server.early).toBeLessThanOrEqual((base.workers - 1) * limiter.stats().pauses);
    expect(limiter.stats().source).toBe('learned');
  });
});

describe('FakeClock helper', () => {
  it('runUntilIdle wakes every sleeper in due order, including ones scheduled on the way', async () => {
    const clock = new FakeClock(0);
    const order: string[] = [];
    void clock.sleep(300).then(() => order.push('a@' + clock.now()));
    void clock.sleep(100).then(async () => {
      order.push('b@' + clock.now());
      await clock.sleep(50);
      order.push('c@' + clock.now());
    });
    await clock.runUntilIdle();
    expect(order).toEqual(['b@100', 'c@150', 'a@300']);
    expect(clock.pending()).toBe(0);
  });

  it('runUntilIdle refuses to spin forever', async () => {
    const clock = new FakeClock(0);
    const stop = { done: false };
    void (async () => {
      while (!stop.done) await clock.sleep(1);
    })();
    await expect(clock.runUntilIdle(50)).rejects.toThrow(/still busy/);
    stop.done = true;
    await clock.advance(1);
  });

  it('an aborted sleep rejects with the reason and leaves no timer', async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    const p = clock.sleep(1000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pending()).toBe(0);
  });
});

describe('RateLimiter capRate / limiterFor caps', () => {
  it('capRate lowers the pace and the ceiling, never raises them', () => {
    const limiter = new RateLimiter({ clock: new FakeClock(), maxRpm: 300 });
    limiter.capRate(600);
    expect(limiter.stats()).toMatchObject({ rpm: 300, source: 'cap' });
    limiter.capRate(120);
    expect(limiter.stats()).toMatchObject({ rpm: 120, source: 'cap' });
    limiter.settle(0, { limit: 600, remaining: 10 });
    expect(limiter.stats().rpm).toBe(120);
  });

  it('a later limiterFor with --rate caps the shared limiter', () => {
    const a = limiterFor('https://cap.example', 'synap_cap_key', {});
    const b = limiterFor('https://cap.example', 'synap_cap_key', { maxRpm: 90 });
    expect(b).toBe(a);
    expect(a.stats()).toMatchObject({ rpm: 90, source: 'cap' });
  });
});
