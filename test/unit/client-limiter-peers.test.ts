import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/client/limiter.js';
import { KeyRateLimiter } from '../../src/emulator/rate-limiter.js';
import { FakeClock } from '../helpers/fake-clock.js';

/**
 * n shards of one run (`peers: n`), each its own process with its own limiter, against one
 * server bucket (the emulator's own limiter, on the same fake clock). Each shard asks its
 * pre-flight (whoami, the credit estimate, the balance: one after another), then sends its
 * batches with `workers` workers. When a shard has sent all of its batches the others learn
 * it `noticeMs` later (the done file beside the input), as a count of finished peers.
 */
async function shardRun(o: {
  rpm: number;
  burst: number;
  /** Batches per shard. */
  batches: number[];
  latencyMs: number;
  headers: boolean;
  /** When each shard's first request goes, ms after the first shard's. */
  startsMs?: number[];
  workers?: number;
  /** After how long the others notice a finished shard; undefined: never. */
  noticeMs?: number;
}) {
  const clock = new FakeClock();
  const server = new KeyRateLimiter({ rpm: o.rpm, burst: o.burst }, clock);
  const n = o.batches.length;
  const t0 = clock.now();
  const accepted: number[] = [];
  const refused: number[] = [];
  const firstBatch: number[] = [];
  const finished: number[] = [];
  const limiters = Array.from({ length: n }, () => new RateLimiter({ clock, peers: n }));
  let done = 0;
  const send = async (limiter: RateLimiter): Promise<boolean> => {
    const ticket = await limiter.acquire();
    const sentAt = clock.now();
    const d = server.take('key');
    await clock.sleep(o.latencyMs);
    if (!d.limited) throw new Error('the server must be limited');
    const headers = o.headers
      ? { limit: d.limit, remaining: d.remaining, resetEpochS: d.resetAt }
      : undefined;
    limiter.settle(ticket, headers, !d.allowed);
    if (d.allowed) {
      accepted.push(sentAt - t0);
      limiter.onSuccess();
      return true;
    }
    refused.push(sentAt - t0);
    limiter.onRateLimited(d.retryAfterSeconds * 1000, sentAt);
    return false;
  };
  const shard = async (c: number) => {
    const limiter = limiters[c]!;
    await clock.sleep(o.startsMs?.[c] ?? 0);
    for (let i = 0; i < 3; i++) while (!(await send(limiter)));
    let left = o.batches[c]!;
    const worker = async () => {
      while (left > 0) {
        left -= 1;
        firstBatch[c] ??= clock.now() - t0;
        while (!(await send(limiter)));
      }
    };
    await Promise.all(Array.from({ length: o.workers ?? 4 }, worker));
    finished[c] = clock.now() - t0;
    if (o.noticeMs === undefined) return;
    await clock.sleep(o.noticeMs);
    done += 1;
    for (const l of limiters) l.peersFinished(done);
  };
  const all = Promise.all(Array.from({ length: n }, (_, c) => shard(c)));
  await clock.runUntilIdle(1_000_000);
  await all;
  const end = Math.max(...finished);
  return { accepted, refused, firstBatch, finished, end, limiters };
}

/** Accepted requests ÷ what the bucket allows from the first request to `end` ms. */
function use(r: { accepted: number[] }, end: number, rpm: number, burst: number): number {
  return r.accepted.filter((t) => t <= end).length / (burst + (rpm / 60_000) * end);
}

describe('RateLimiter peers: n shards of one run on one key', () => {
  it('with rate headers: each shard sends its first batch at once and the shards drain the burst together', async () => {
    // 4 × (3 + 150) = 612 requests: the burst of 50, then 56 s at the key's 10 a second.
    const r = await shardRun({
      rpm: 600,
      burst: 50,
      batches: [150, 150, 150, 150],
      latencyMs: 20,
      headers: true,
    });

    // Nothing paces a shard's start: its pre-flight and first batch take a round trip each.
    for (const t of r.firstBatch) expect(t).toBeLessThanOrEqual(4 * 20 + 1);
    // In the first 10 s the burst and the rate were used, not the rate alone.
    expect(use(r, 10_000, 600, 50)).toBeGreaterThanOrEqual(0.95);
    expect(use(r, r.end, 600, 50)).toBeGreaterThanOrEqual(0.97);
    // Racing for the burst may draw a refusal or two at the start; nothing after 5 s.
    expect(r.refused.filter((t) => t >= 5000)).toEqual([]);
    expect(r.refused.length).toBeLessThanOrEqual(4);
  });

  it('with rate headers, shards starting unevenly: what the late ones leave is used by the early ones', async () => {
    const r = await shardRun({
      rpm: 600,
      burst: 50,
      batches: [150, 150, 150, 150],
      latencyMs: 20,
      headers: true,
      startsMs: [0, 400, 900, 1500],
      noticeMs: 1000,
    });
    // The first shard takes what would overflow while it is alone; what the late ones' shares
    // of the burst leave in the bucket is taken once the answers show it idle.
    expect(use(r, 10_000, 600, 50)).toBeGreaterThanOrEqual(0.95);
    expect(use(r, r.end, 600, 50)).toBeGreaterThanOrEqual(0.97);
    expect(r.refused.filter((t) => t >= 5000)).toEqual([]);
    expect(r.refused.length).toBeLessThanOrEqual(4);
  });

  it('without rate headers: the shards learn the key’s rate from 429s together, not from 1/n of the smallest tier', async () => {
    const r = await shardRun({
      rpm: 600,
      burst: 50,
      batches: [150, 150, 150, 150],
      latencyMs: 20,
      headers: false,
      noticeMs: 1000,
    });
    for (const t of r.firstBatch) expect(t).toBeLessThanOrEqual(4 * 20 + 1);
    // Over the run, at least 0.9 of the key (the first 429s and the probing cost the rest).
    expect(use(r, r.end, 600, 50)).toBeGreaterThanOrEqual(0.9);
    // While all four send, after the first 429s: the key's rate, neither less nor more.
    const firstDone = Math.min(...r.finished);
    const steady = r.accepted.filter((t) => t >= 5000 && t < firstDone).length;
    const rate = steady / ((600 / 60_000) * (firstDone - 5000));
    expect(rate).toBeGreaterThanOrEqual(0.9);
    expect(rate).toBeLessThanOrEqual(1.01);
  });

  it.each([
    ['with', true],
    ['without', false],
  ])(
    '%s rate headers: a shard that finishes early leaves its share to the others',
    async (_, headers) => {
      // Three shards with 30 batches, one with 300: alone, it would run at a quarter of the rate.
      const r = await shardRun({
        rpm: 600,
        burst: 50,
        batches: [30, 30, 30, 300],
        latencyMs: 20,
        headers,
        noticeMs: 1000,
      });
      const othersDone = Math.max(...r.finished.slice(0, 3));
      // From a second after the last of the others finished, the slow shard has the whole rate.
      const from = othersDone + 2000;
      const late = r.accepted.filter((t) => t >= from).length;
      const span = r.end - from;
      expect(span).toBeGreaterThan(10_000);
      expect(late / ((600 / 60_000) * span)).toBeGreaterThanOrEqual(0.9);
      if (headers) expect(r.refused.filter((t) => t >= 5000)).toEqual([]);
    },
  );
});
