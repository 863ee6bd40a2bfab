import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { api, doc } from '../helpers/emulator.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = Date.UTC(2025, 0, 1);

describe('emulator rate limits (real HTTP, injected clock)', () => {
  let emu: RunningEmulator | undefined;
  afterEach(async () => {
    await emu?.close();
    emu = undefined;
  });

  it('free tier: a burst of 10, then 429 with Retry-After and X-RateLimit-* headers', async () => {
    const clock = new FakeClock(T0);
    emu = await startEmulator({ clock, tier: 'free' });
    const results = [];
    for (let i = 0; i < 15; i++) results.push(await api(emu, 'GET', '/api/v1/auth/whoami'));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    results.slice(0, 10).forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.headers['x-ratelimit-limit']).toBe('60');
      expect(r.headers['x-ratelimit-remaining']).toBe(String(9 - i));
      expect(r.headers['retry-after']).toBeUndefined();
    });
    const limited = results[10]!;
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.headers['x-ratelimit-limit']).toBe('60');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.headers['x-ratelimit-reset']).toBe(String(T0 / 1000 + 10));
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(limited.body.correlation_id).toBe(limited.headers['x-correlation-id']);
    // The four after the first 429 came before its Retry-After had passed.
    const stats = emu.stats();
    expect(stats.rate_limited).toBe(5);
    expect(stats.early_requests).toBe(4);
    expect(stats.requests_by_endpoint_status.whoami).toEqual({ '200': 10, '429': 5 });
  });

  it('accepts exactly burst + refill over a one-minute window', async () => {
    const clock = new FakeClock(T0);
    emu = await startEmulator({ clock, tier: 'free' });
    let accepted = 0;
    for (let t = 0; t < 60_000; t += 250) {
      const res = await api(emu, 'POST', '/api/v1/memories/create', { body: doc(`w${t}`) });
      if (res.status === 200) accepted++;
      else expect(res.status).toBe(429);
      await clock.advance(250);
    }
    // 10 in the bucket + one per second for 59.75 s.
    expect(accepted).toBe(69);
    expect(emu.documents()).toHaveLength(69);
  });

  it('a client that honours Retry-After makes no early requests', async () => {
    const clock = new FakeClock(T0);
    emu = await startEmulator({ clock, tier: 'pro' });
    let accepted = 0;
    while (clock.now() < T0 + 30_000) {
      const res = await api(emu, 'GET', '/api/v1/auth/whoami');
      if (res.status === 200) accepted++;
      else await clock.advance(Number(res.headers['retry-after']) * 1000);
    }
    const stats = emu.stats();
    expect(stats.early_requests).toBe(0);
    expect(stats.rate_limited).toBeGreaterThan(0);
    // The burst at t=0, then 10 tokens (1 s at 600/min) after each of the 29 waits before 30 s.
    expect(accepted).toBe(50 + 29 * 10);
  });

  it('--rpm/--burst override the tier; --no-rate-headers hides the three headers', async () => {
    const clock = new FakeClock(T0);
    emu = await startEmulator({ clock, tier: 'unlimited', rpm: 120, burst: 2, rateHeaders: false });
    const a = await api(emu, 'GET', '/api/v1/auth/whoami');
    const b = await api(emu, 'GET', '/api/v1/auth/whoami');
    const c = await api(emu, 'GET', '/api/v1/auth/whoami');
    expect([a.status, b.status, c.status]).toEqual([200, 200, 429]);
    for (const r of [a, b, c]) {
      expect(r.headers['x-ratelimit-limit']).toBeUndefined();
      expect(r.headers['x-ratelimit-remaining']).toBeUndefined();
      expect(r.headers['x-ratelimit-reset']).toBeUndefined();
    }
    expect(c.headers['retry-after']).toBe('1');
    await clock.advance(500);
    expect((await api(emu, 'GET', '/api/v1/auth/whoami')).status).toBe(200);
  });

  it('unlimited tier never answers 429', async () => {
    emu = await startEmulator({ tier: 'unlimited' });
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () =>
        api(emu!, 'GET', '/api/v1/auth/whoami').then((r) => r.status),
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
  });

  it('buckets are per key; --api-key adds a key next to the stored one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synap-emu-rl-'));
    try {
      const db = join(dir, 'e.db');
      const first = await startEmulator({ db });
      const keyA = first.apiKey;
      await first.close();
      const clock = new FakeClock(T0);
      emu = await startEmulator({
        db,
        clock,
        tier: 'unlimited',
        rpm: 60,
        burst: 3,
        apiKey: 'synap_second',
      });
      expect(emu.apiKey).toBe('synap_second');
      const statusesA = [];
      for (let i = 0; i < 4; i++)
        statusesA.push((await api(emu, 'GET', '/api/v1/auth/whoami', { key: keyA })).status);
      expect(statusesA).toEqual([200, 200, 200, 429]);
      const b = await api(emu, 'GET', '/api/v1/auth/whoami');
      expect(b.status).toBe(200);
      expect(b.headers['x-ratelimit-remaining']).toBe('2');
    } finally {
      await emu?.close();
      emu = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
