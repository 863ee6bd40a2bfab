import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/client/limiter.js';
import { KeyRateLimiter } from '../../src/emulator/rate-limiter.js';
import { FakeClock } from '../helpers/fake-clock.js';

/**
 * n clients with `rateShare: 1/n` against one server bucket (the emulator's own limiter, on the
 * same fake clock), each with a few workers sending back to back and `latencyMs` per answer.
 */
async function shareRun(o: {
  clients: number;
  rpm: number;
  burst: number;
  latencyMs: number;
  seconds: number;
  /** When each client starts, ms after the first. */
  startsMs?: number[];
}) {
  const clock = new FakeClock();
  const server = new KeyRateLimiter({ rpm: o.rpm, burst: o.burst }, clock);
  const served = Array.from({ length: o.clients }, () => 0);
  let refused = 0;
  const end = clock.now() + o.seconds * 1000;
  const t0 = clock.now();
  const client = async (c: number) => {
    await clock.sleep(o.startsMs?.[c] ?? 0);
    const limiter = new RateLimiter({ clock, rateShare: 1 / o.clients });
    const worker = async () => {
      while (clock.now() < end) {
        const ticket = await limiter.acquire();
        if (clock.now() >= end) return;
        const sentAt = clock.now();
        const d = server.take('key');
        await clock.sleep(o.latencyMs);
        if (!d.limited) {
          limiter.settle(ticket);
          continue;
        }
        const headers = { limit: d.limit, remaining: d.remaining, resetEpochS: d.resetAt };
        limiter.settle(ticket, headers, !d.allowed);
        if (d.allowed) {
          served[c]! += 1;
          limiter.onSuccess();
        } else {
          refused += 1;
          limiter.onRateLimited(d.retryAfterSeconds * 1000, sentAt);
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  };
  const all = Promise.all(Array.from({ length: o.clients }, (_, c) => client(c)));
  await clock.advance(o.seconds * 1000 + 5000);
  await all;
  const total = served.reduce((a, b) => a + b, 0);
  const lastStart = Math.max(0, ...(o.startsMs ?? [0]));
  // Everything the server could have served from the moment the last client started.
  const possible = o.burst + (o.rpm / 60_000) * (end - t0);
  return { served, total, refused, possible, lastStart };
}

describe('RateLimiter rateShare: n shards on one key', () => {
  it('4 shards at 1/4 each use the key to the full without 429s after the first answers', async () => {
    const r = await shareRun({ clients: 4, rpm: 1200, burst: 10, latencyMs: 30, seconds: 60 });
    // The shards together: at least 0.95 of rate × time + burst.
    expect(r.total / r.possible).toBeGreaterThanOrEqual(0.95);
    // Each takes its quarter.
    for (const s of r.served) expect(s / r.total).toBeCloseTo(0.25, 1);
    // The first contact of each shard may overdraw the burst once; nothing after.
    expect(r.refused).toBeLessThanOrEqual(4);
    expect(r.refused).toBeLessThanOrEqual(r.total * 0.01);
  });

  it('shards starting one after another each keep to their share', async () => {
    const r = await shareRun({
      clients: 4,
      rpm: 600,
      burst: 50,
      latencyMs: 5,
      seconds: 60,
      startsMs: [0, 700, 1900, 4200],
    });
    expect(r.refused).toBeLessThanOrEqual(4);
    // The late ones lose what they did not send before they started, and no more.
    expect(r.total / r.possible).toBeGreaterThanOrEqual(0.9);
    expect(r.total).toBeLessThanOrEqual(r.possible);
  });
});
