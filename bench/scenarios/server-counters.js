// Scenario 7: pacing to the server's own counters (X-RateLimit-Limit/Remaining/Reset), at
// 60, 600 and 6000 requests per minute, with 1 ms and 50 ms of latency, against the emulator
// counting as a token bucket and as a fixed one-minute window. One-document requests, so the
// emulator's CPU never binds and the limit is what is measured. Figures at the server:
//   bucket: accepted requests ÷ (burst + rate × elapsed), every request the server counted
//     against the key (the pre-flight's whoami and credit calls too), elapsed = our first to
//     last arrival;
//   window: the run starts when a window begins and needs the whole of it and one round of
//     requests of the next (1% of the limit, at most as many as it keeps in flight): ideal
//     completion ÷ ours, both from our first arrival, where the ideal sender's last request
//     arrives the instant the next window begins.
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
      // Every request the server counted against the key: the batches and the pre-flight
      // (whoami, the credit estimate and balance), from our first request to our last.
      const metered = entries(log);
      const whole = span(log, metered);
      const accepted = countIn(log, metered).ok;
      share = accepted / (tier.burst + (tier.rpm / 60_000) * (whole.last - whole.first));
      extra = {
        accepted_all_routes: accepted,
        share_batches_only_from_first_batch: round(
          all.ok / (tier.burst + (tier.rpm / 60_000) * (last - first)),
          4,
        ),
      };
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

/** Runs of the given rates at every latency, all at once, each against its own emulator. */
function together(ctx, kind, tiers, recordsFor) {
  return Promise.all(
    tiers.flatMap((tier) =>
      LATENCIES.map((lat, j) =>
        runOne(ctx, kind, tier, lat, recordsFor(tier), `${kind}${tier.rpm}-${j}`),
      ),
    ),
  );
}

/**
 * The light runs (60 and 600 a minute) at once; each 6,000-a-minute run alone, since at 100
 * one-document requests a second its client and emulator need most of a core between them.
 * Window runs start just after a minute begins (`aligned`), so the first window is nearly whole.
 */
async function inTurn(ctx, kind, recordsFor, aligned) {
  const light = TIERS.filter((t) => t.rpm < 6000);
  const heavy = TIERS.filter((t) => t.rpm >= 6000);
  if (aligned) await untilNextMinute(300);
  const out = await together(ctx, kind, light, recordsFor);
  for (const tier of heavy) {
    for (const [j, lat] of LATENCIES.entries()) {
      if (aligned) await untilNextMinute(300);
      out.push(await runOne(ctx, kind, tier, lat, recordsFor(tier), `${kind}${tier.rpm}-${j}`));
    }
  }
  return out;
}

export async function scenarioServerCounters(ctx) {
  const seconds = ctx.quick ? 20 : 60;
  ctx.note(`scenario 7: token bucket, 3 rates × 2 latencies, ${seconds} s of each`);
  const bucket = await inTurn(ctx, 'bucket', (t) => t.burst + (t.rpm / 60) * seconds, false);
  // Each window run needs the whole window and then one round of requests (1% of the limit,
  // at most as many as it keeps in flight) the instant the next window begins.
  ctx.note('scenario 7: fixed window, 3 rates × 2 latencies, each starting on a minute');
  const window = await inTurn(
    ctx,
    'window',
    (t) => t.rpm + Math.min(t.concurrency, Math.max(1, t.rpm / 100)),
    true,
  );
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
      scenario: '7',
      figure: what,
      value: `${r.share} (429s after 5 s: ${r.rate_limited_after_5s})`,
      target: '≥ 0.99, 0',
      pass,
    };
  });
  return { rows, details: { seconds, runs: results } };
}
