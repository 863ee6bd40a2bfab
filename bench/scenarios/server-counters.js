// Scenario 6: pacing to the server's own counters (X-RateLimit-Limit/Remaining/Reset), at
// 60, 600 and 6000 requests per minute, with 1 ms and 50 ms of latency, against the emulator
// counting as a token bucket and as a fixed one-minute window. One-document requests, so the
// emulator's CPU never binds and the limit is what is measured. Figures at the server:
//   bucket: accepted requests ÷ (burst + rate × elapsed), elapsed = first to last arrival;
//   window: the first request arrives when a window begins; the run needs the whole of it
//     and a little of the next (1% of the limit): ideal completion ÷ ours, both from our first
//     arrival, where the ideal sender's last request arrives the instant the next window begins.
// Plus 429s after the first 5 s (target 0) and early requests (during a Retry-After).
import { join } from 'node:path';
import { startEmulatorWorker } from '../lib/emulator.js';
import { runSynap, summaryOf } from '../lib/cli.js';
import { writeSendJsonl } from '../lib/inputs.js';
import { countIn, entries, round, span } from '../lib/measure.js';

const TIERS = [
  { rpm: 60, burst: 10, concurrency: 8 },
  { rpm: 600, burst: 50, concurrency: 8 },
  { rpm: 6000, burst: 1000, concurrency: 16 },
];
const LATENCIES = [
  { name: '1 ms', delayMs: { min: 1, max: 1 } },
  { name: '50 ms', delayMs: { min: 45, max: 55 } },
];
const WINDOW_MS = 60_000;

async function runOne(ctx, kind, tier, latency, records, tag) {
  const dir = ctx.dir(`s6-${tag}`);
  const file = await writeSendJsonl(join(dir, 'in.jsonl'), records, `s6${tag}`);
  const emu = await startEmulatorWorker(
    { tier: 'unlimited', rpm: tier.rpm, burst: tier.burst, limiter: kind, seed: 6 },
    { delayMs: latency.delayMs },
  );
  try {
    const run = await runSynap(
      ['--json', 'ingest', file, '--batch-size', '1', '--concurrency', String(tier.concurrency)],
      { dir, emu },
    );
    const summary = summaryOf(run, 'synap ingest');
    const [log, stats] = await Promise.all([emu.log(), emu.stats()]);
    const idx = entries(log, 'b');
    const { first, last } = span(log, idx);
    const all = countIn(log, idx);
    const late = countIn(log, idx, first + 5000);
    let share;
    let extra = {};
    if (kind === 'bucket') {
      share = all.ok / (tier.burst + (tier.rpm / 60_000) * (last - first));
    } else {
      const next = (Math.floor(first / WINDOW_MS) + 1) * WINDOW_MS;
      const afterRoll = idx.filter((i) => log.arrived[i] >= next).map((i) => log.arrived[i]);
      share = (next - first) / (last - first);
      extra = {
        first_arrival_into_minute_s: round((first % WINDOW_MS) / 1000, 3),
        roll_to_first_request_ms: round(Math.min(...afterRoll) - next, 1),
      };
    }
    return {
      kind,
      rpm: tier.rpm,
      burst: tier.burst,
      latency: latency.name,
      records,
      exit_code: run.code,
      accepted: summary.accepted,
      requests: all.total,
      elapsed_s: round((last - first) / 1000, 3),
      share: round(share, 4),
      rate_limited: all.rateLimited,
      rate_limited_after_5s: late.rateLimited,
      early_requests: stats.early_requests,
      connections: log.connections,
      ...extra,
    };
  } finally {
    await emu.close();
  }
}

/** Waits until `ms` past the start of the next minute. */
async function untilNextMinute(ms) {
  const now = Date.now();
  const at = (Math.floor(now / WINDOW_MS) + 1) * WINDOW_MS + ms;
  await new Promise((r) => setTimeout(r, at - now));
}

/** Every rate at every latency at once, each against its own emulator. */
function allAtOnce(ctx, kind, recordsFor) {
  return Promise.all(
    TIERS.flatMap((tier) =>
      LATENCIES.map((lat, j) =>
        runOne(ctx, kind, tier, lat, recordsFor(tier), `${kind}${tier.rpm}-${j}`),
      ),
    ),
  );
}

export async function scenarioServerCounters(ctx) {
  const seconds = ctx.quick ? 20 : 60;
  // Token bucket: the six runs at once (their CPU is small).
  ctx.note(`scenario 6: token bucket, 3 rates × 2 latencies, ${seconds} s each`);
  const bucket = await allAtOnce(ctx, 'bucket', (t) => t.burst + (t.rpm / 60) * seconds);
  // Fixed window: started just after a minute begins, so the first window is nearly whole.
  // Each run needs the whole window and 1% of the next.
  ctx.note('scenario 6: fixed window, 3 rates × 2 latencies, starting on the next minute');
  await untilNextMinute(300);
  const window = await allAtOnce(ctx, 'window', (t) => t.rpm + Math.max(1, t.rpm / 100));
  const results = [...bucket, ...window];
  const rows = results.map((r) => {
    const what =
      r.kind === 'bucket'
        ? `bucket ${r.rpm}/min burst ${r.burst}, ${r.latency}: accepted ÷ (burst + rate × elapsed)`
        : `window ${r.rpm}/min, ${r.latency}: ideal ÷ our completion (roll → first request ${r.roll_to_first_request_ms} ms)`;
    const pass =
      r.share >= 0.99 &&
      r.rate_limited_after_5s === 0 &&
      r.early_requests === 0 &&
      r.exit_code === 0 &&
      r.accepted === r.records;
    return {
      scenario: '6',
      figure: what,
      value: `${r.share} (429s after 5 s: ${r.rate_limited_after_5s})`,
      target: '≥ 0.99, 0',
      pass,
    };
  });
  return { rows, details: { seconds, runs: results } };
}
