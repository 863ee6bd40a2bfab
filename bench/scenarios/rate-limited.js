// Scenarios 1 and 2: a backfill against a rate-limited key, measured at the server.
//   1 (headers): --rpm 600 --burst 50 with X-RateLimit-* headers, ~60 s of 100-document
//     batches; baselines (the documented sequential loop, a naive p-limit(8) sender) send the
//     same file at the same time, each to its own emulator (its own key and bucket).
//   2 (unknown limit): the same limit, but the server sends no X-RateLimit-* headers.
import { join } from 'node:path';
import { startEmulatorWorker } from '../lib/emulator.js';
import { cleanEnv, runNode, runSynap, summaryOf } from '../lib/cli.js';
import { writeSendJsonl } from '../lib/inputs.js';
import { countIn, entries, inFlightSeries, round, span } from '../lib/measure.js';

const RPM = 600;
const BURST = 50;
const BATCH = 100;
const DOCS_LOOP = new URL('../baselines/docs-loop.js', import.meta.url).pathname;
const NAIVE = new URL('../baselines/naive-plimit.js', import.meta.url).pathname;

/** Records whose ideal send time at the limit is `seconds`: burst + rate × seconds requests. */
function recordsFor(seconds) {
  return (BURST + (RPM / 60) * seconds) * BATCH;
}

/** What the server saw of one sender: rates, 429s, pauses, exactly-once. */
async function serverView(emu, records, warmupMs) {
  const [log, stats, docs] = await Promise.all([emu.log(), emu.stats(), emu.documentCheck()]);
  const idx = entries(log, 'b');
  const { first, last } = span(log, idx);
  const elapsedS = (last - first) / 1000;
  const all = countIn(log, idx);
  const afterFive = countIn(log, idx, first + 5000);
  const afterWarmup = countIn(log, idx, first + warmupMs);
  const warmS = Math.max(0.001, (last - first - warmupMs) / 1000);
  // Accepted in the window ending at the last arrival: the refill of that window is the most
  // the server could accept, plus at most the one request arriving at its very end.
  return {
    records,
    requests: all.total,
    accepted_requests: all.ok,
    rate_limited: all.rateLimited,
    other_statuses: all.other,
    elapsed_s: round(elapsedS, 2),
    allowed_requests: round(BURST + (RPM / 60) * elapsedS, 1),
    share_of_limit: round(all.ok / (BURST + (RPM / 60) * elapsedS), 3),
    requests_after_5s: afterFive.total,
    rate_limited_after_5s: afterFive.rateLimited,
    share_429_after_5s: round(afterFive.total ? afterFive.rateLimited / afterFive.total : 0, 4),
    warmup_s: warmupMs / 1000,
    share_of_rate_after_warmup: round(afterWarmup.ok / ((RPM / 60) * warmS), 3),
    early_requests: stats.early_requests,
    emulator_rate_limited: stats.rate_limited,
    max_in_flight: log.maxInFlight,
    in_flight_per_s: inFlightSeries(log, idx, first, last, 1000).map((x) => round(x, 1)),
    accepted_per_s: perSecond(log, idx, first, last),
    stored: docs,
    exactly_once:
      docs.count === records && docs.distinctIds === records && docs.maxTimesReceived === 1,
  };
}

function perSecond(log, idx, first, last) {
  const out = [];
  for (let t = first; t <= last; t += 1000) out.push(countIn(log, idx, t, t + 1000).ok);
  return out;
}

async function runOurs(ctx, emu, file, dir) {
  const run = await runSynap(['--json', 'ingest', file, '--batch-size', String(BATCH)], {
    dir,
    emu,
  });
  const summary = summaryOf(run, 'synap ingest');
  return { run, summary };
}

async function runBaseline(script, emu, file, dir) {
  const env = cleanEnv(dir, { SYNAP_BASE_URL: emu.url, SYNAP_API_KEY: emu.apiKey });
  const run = await runNode(['--file', file, '--batch-size', String(BATCH)], {
    env,
    cwd: dir,
    script,
  });
  if (run.code !== 0) throw new Error(`${script} exited ${run.code}: ${run.stderr.slice(-2000)}`);
  return { run, summary: JSON.parse(run.stdout) };
}

/** Scenario 1: our run and both baselines side by side (each against its own emulator). */
export async function scenarioRateLimited(ctx) {
  const seconds = ctx.quick ? 20 : 60;
  const records = recordsFor(seconds);
  const dir = ctx.dir('s1');
  const file = await writeSendJsonl(join(dir, 'backfill.jsonl'), records, 's1');
  ctx.note(`scenario 1: ${records} records, ${RPM} rpm burst ${BURST}, ours and two baselines`);
  const opts = { tier: 'pro', rpm: RPM, burst: BURST, seed: 1 };
  const [emuOurs, emuLoop, emuNaive] = await Promise.all([
    startEmulatorWorker(opts),
    startEmulatorWorker(opts),
    startEmulatorWorker(opts),
  ]);
  try {
    const [ours, loop, naive] = await Promise.all([
      runOurs(ctx, emuOurs, file, ctx.dir('s1-ours')),
      runBaseline(DOCS_LOOP, emuLoop, file, ctx.dir('s1-loop')),
      runBaseline(NAIVE, emuNaive, file, ctx.dir('s1-naive')),
    ]);
    const [vOurs, vLoop, vNaive] = await Promise.all([
      serverView(emuOurs, records, 5000),
      serverView(emuLoop, records, 5000),
      serverView(emuNaive, records, 5000),
    ]);
    const wall = { ours: ours.run.wallMs, loop: loop.run.wallMs, naive: naive.run.wallMs };
    const details = {
      records,
      rpm: RPM,
      burst: BURST,
      batch_size: BATCH,
      ours: {
        exit_code: ours.run.code,
        wall_s: round(wall.ours / 1000, 2),
        summary: pick(ours.summary),
        server: vOurs,
      },
      docs_loop: { wall_s: round(wall.loop / 1000, 2), summary: loop.summary, server: vLoop },
      naive_plimit8: {
        wall_s: round(wall.naive / 1000, 2),
        summary: naive.summary,
        server: vNaive,
      },
    };
    const rows = [
      row(
        '1',
        'accepted requests / (burst + rate × elapsed)',
        vOurs.share_of_limit,
        '≥ 0.95',
        vOurs.share_of_limit >= 0.95,
      ),
      row(
        '1',
        '429s / requests after the first 5 s',
        vOurs.share_429_after_5s,
        '≤ 0.01',
        vOurs.share_429_after_5s <= 0.01,
      ),
      row(
        '1',
        'requests during a Retry-After pause (early_requests)',
        vOurs.early_requests,
        '0',
        vOurs.early_requests === 0,
      ),
      row(
        '1',
        'every document stored exactly once, exit 0',
        `${vOurs.stored.count}/${records}, exit ${ours.run.code}`,
        'all, exit 0',
        vOurs.exactly_once && ours.run.code === 0,
      ),
      row('1', 'completion time (s): ours', round(wall.ours / 1000, 1), 'info', null),
      row(
        '1',
        'docs loop time ÷ ours',
        round(wall.loop / wall.ours, 2),
        `info (${vLoop.rate_limited} 429s, ${vLoop.early_requests} early)`,
        null,
      ),
      row(
        '1',
        'naive p-limit(8) time ÷ ours',
        round(wall.naive / wall.ours, 2),
        `info (${vNaive.rate_limited} 429s, ${vNaive.early_requests} early)`,
        null,
      ),
    ];
    return { rows, details };
  } finally {
    await Promise.all([emuOurs.close(), emuLoop.close(), emuNaive.close()]);
  }
}

/** Scenario 2: the same limit with no X-RateLimit-* headers; the limiter must find it. */
export async function scenarioUnknownLimit(ctx) {
  const seconds = ctx.quick ? 20 : 60;
  const warmupMs = ctx.quick ? 5000 : 10_000;
  const records = recordsFor(seconds);
  const dir = ctx.dir('s2');
  const file = await writeSendJsonl(join(dir, 'backfill.jsonl'), records, 's2');
  ctx.note(`scenario 2: ${records} records, ${RPM} rpm burst ${BURST}, no rate headers`);
  const emu = await startEmulatorWorker({
    tier: 'pro',
    rpm: RPM,
    burst: BURST,
    rateHeaders: false,
    seed: 2,
  });
  try {
    const ours = await runOurs(ctx, emu, file, dir);
    const v = await serverView(emu, records, warmupMs);
    const details = {
      records,
      rpm: RPM,
      burst: BURST,
      ours: {
        exit_code: ours.run.code,
        wall_s: round(ours.run.wallMs / 1000, 2),
        summary: pick(ours.summary),
        server: v,
      },
    };
    const rows = [
      row(
        '2',
        `accepted / rate after ${warmupMs / 1000} s warm-up`,
        v.share_of_rate_after_warmup,
        '≥ 0.85',
        v.share_of_rate_after_warmup >= 0.85,
      ),
      row('2', '429s / requests after the first 5 s', v.share_429_after_5s, 'info', null),
      row(
        '2',
        'every document stored exactly once, exit 0',
        `${v.stored.count}/${records}, exit ${ours.run.code}`,
        'all, exit 0',
        v.exactly_once && ours.run.code === 0,
      ),
    ];
    return { rows, details };
  } finally {
    await emu.close();
  }
}

function row(scenario, figure, value, target, pass) {
  return { scenario, figure, value, target, pass };
}

/** The summary fields worth keeping in the results file. */
function pick(s) {
  const keys = [
    'status',
    'exit_code',
    'records_read',
    'sent',
    'accepted',
    'skipped',
    'failed',
    'requests',
    'rate_limited',
    'retries',
    'elapsed_s',
    'records_per_s',
  ];
  return Object.fromEntries(keys.filter((k) => k in s).map((k) => [k, s[k]]));
}
