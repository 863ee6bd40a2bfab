import { describe, expect, it } from 'vitest';
import type { IngestProgress } from '../../src/ingest/reporter.js';
import { ingestProgressText, SettleRate } from '../../src/output/ingest-progress.js';

function progress(over: Partial<IngestProgress>): IngestProgress {
  return {
    source: 'a.jsonl',
    read: 0,
    sent: 0,
    accepted: 0,
    skipped: 0,
    failed: 0,
    done: 0,
    settled: 0,
    paceRpm: undefined,
    estimatedTotal: 1000,
    inFlightRequests: 0,
    concurrency: 8,
    elapsedMs: 0,
    rateLimitedMs: 0,
    requests: 0,
    rateLimited: 0,
    retries: 0,
    dryRun: false,
    ...over,
  };
}

/** A run that reads everything at once and settles `perS` records a second. */
function steady(perS: number, atMs: number, over: Partial<IngestProgress> = {}) {
  const settled = Math.floor((perS * atMs) / 1000);
  return progress({
    read: 1000,
    done: 1000,
    settled,
    sent: settled,
    accepted: settled,
    requests: Math.ceil(settled / 10),
    elapsedMs: atMs,
    ...over,
  });
}

describe('ingest progress: percentage and ETA from settled records', () => {
  it('counts settled records, not records read ahead', () => {
    const rate = new SettleRate();
    let text = '';
    for (let t = 0; t <= 10_000; t += 200)
      text = ingestProgressText(steady(20, t), rate.pace(steady(20, t)));
    // 200 of 1000 settled after 10 s at 20/s: 20%, 800 left at 20/s is 40 s.
    expect(text).toContain('200 / ~1,000 records (20%)');
    expect(text).toContain('20/s');
    expect(text).toMatch(/ETA (39|40|41)s/);
  });

  it('caps the rate by the limiter pace: a fast start does not promise an early end', () => {
    const rate = new SettleRate();
    // 300 requests a minute of 10 records each: 50 records/s at most, though 100/s were seen.
    let pace = rate.pace(steady(100, 0, { paceRpm: 300 }));
    for (let t = 200; t <= 3_000; t += 200) pace = rate.pace(steady(100, t, { paceRpm: 300 }));
    expect(pace.perSecond).toBeCloseTo(50, 0);
    expect(pace.etaMs! / 1000).toBeCloseTo((1000 - 300) / 50, 0);
  });

  it('adds the rest of a Retry-After pause', () => {
    const rate = new SettleRate();
    for (let t = 1_000; t < 5_000; t += 200) rate.pace(steady(10, t));
    const pace = rate.pace(steady(10, 5_000, { rateLimitedMs: 12_000 }));
    expect(pace.etaMs! / 1000).toBeCloseTo(95 + 12, 0);
  });

  it('uses the pace when the run keeps near it, and what is seen when well below it', () => {
    const near = new SettleRate();
    // 300 requests a minute of 10 records allow 50/s; 40/s seen (a slow start): 50/s it is.
    let pace = near.pace(steady(40, 1_000, { paceRpm: 300 }));
    for (let t = 1_200; t <= 4_000; t += 200) pace = near.pace(steady(40, t, { paceRpm: 300 }));
    expect(pace.perSecond).toBeCloseTo(50, 0);
    const slow = new SettleRate();
    // 10/s seen against 50/s allowed: the server is the bottleneck.
    for (let t = 1_000; t <= 4_000; t += 200) pace = slow.pace(steady(10, t, { paceRpm: 300 }));
    expect(pace.perSecond).toBeCloseTo(10, 0);
  });

  it('leaves records passed over by a resume out of the rate, but in the percentage', () => {
    const rate = new SettleRate();
    // 600 resumed past at once, then 10/s.
    const at = (t: number) =>
      progress({
        read: 400,
        done: 1000,
        settled: 600 + t / 100,
        sent: t / 100,
        accepted: t / 100,
        requests: t / 1000,
        elapsedMs: t,
      });
    rate.pace(at(1_000));
    const pace = rate.pace(at(10_000));
    expect(pace.perSecond).toBeCloseTo(10, 5);
    expect(ingestProgressText(at(10_000), pace)).toContain('700 / ~1,000 records (70%)');
    expect(pace.etaMs! / 1000).toBeCloseTo(30, 0);
  });

  it('shows no ETA before a second of settling has been seen', () => {
    const rate = new SettleRate();
    const text = ingestProgressText(steady(20, 0), rate.pace(steady(20, 0)));
    expect(text).not.toContain('ETA');
    expect(text).toContain('…/s');
  });

  it('counts each input from its own start', () => {
    const rate = new SettleRate();
    rate.pace(steady(20, 0, { settled: 0 }));
    rate.pace(progress({ settled: 1000, done: 1000, read: 1000, elapsedMs: 50_000 }));
    rate.startInput();
    const pace = rate.pace(
      progress({ settled: 1100, done: 1100, read: 1100, elapsedMs: 55_000, source: 'b.jsonl' }),
    );
    expect(pace.settled).toBe(100);
  });
});
