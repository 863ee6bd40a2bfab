// Scenarios 1 and 2: a backfill against a rate-limited key, measured at the server.
//   1 (headers): --rpm 600 --burst 50 with X-RateLimit-* headers, 15 s (after the burst) of
//     100-document batches; baselines (the documented sequential loop, a naive p-limit(8)
//     sender) send the same file at the same time, each to its own emulator (its own key and
//     bucket); three such runs, medians.
//   2 (unknown limit): the same limit, but the server sends no X-RateLimit-* headers.
import { join } from 'node:path';
import { startEmulatorWorker } from '../lib/emulator.js';
import { cleanEnv, runNode, runSynap, summaryOf } from '../lib/cli.js';
import { writeSendJsonl } from '../lib/inputs.js';
import {
  countIn,
  entries,
  inFlightSeries,
  lastAcceptedEnd,
  median,
  round,
  span,
} from '../lib/measure.js';

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

/**
 * Completion time of one sender: from its process start (spawn) to the end of the answer to
 * its last accepted request at the server, the same clock for every sender.
 */
async function completionMs(emu, run) {
  const log = await emu.log();
  return lastAcceptedEnd(log, entries(log, 'b')) - run.startedAt;
}

/** One side-by-side run: ours and both baselines at once, each against its own emulator. */
async function sideBySide(ctx, file, records, tag) {
  const opts = { tier: 'pro', rpm: RPM, burst: BURST, seed: 1 };
  const [emuOurs, emuLoop, emuNaive] = await Promise.all([
    startEmulatorWorker(opts),
    startEmulatorWorker(opts),
    startEmulatorWorker(opts),
  ]);
  try {
    const [ours, loop, naive] = await Promise.all([
      runOurs(ctx, emuOurs, file, ctx.dir(`s1-ours-${tag}`)),
      runBaseline(DOCS_LOOP, emuLoop, file, ctx.dir(`s1-loop-${tag}`)),
      runBaseline(NAIVE, emuNaive, file, ctx.dir(`s1-naive-${tag}`)),
    ]);
    const [vOurs, vLoop, vNaive] = await Promise.all([
      serverView(emuOurs, records, 5000),
      serverView(emuLoop, records, 5000),
      serverView(emuNaive, records, 5000),
    ]);
    const [tOurs, tLoop, tNaive] = await Promise.all([
      completionMs(emuOurs, ours.run),
      completionMs(emuLoop, loop.run),
      completionMs(emuNaive, naive.run),
    ]);
    return {
      ours: {
        exit_code: ours.run.code,
        completion_s: round(tOurs / 1000, 3),
        wall_s: round(ours.run.wallMs / 1000, 2),
        summary: pick(ours.summary),
        server: vOurs,
      },
      docs_loop: {
        completion_s: round(tLoop / 1000, 3),
        wall_s: round(loop.run.wallMs / 1000, 2),
        summary: loop.summary,
        server: vLoop,
      },
      naive_plimit8: {
        completion_s: round(tNaive / 1000, 3),
        wall_s: round(naive.run.wallMs / 1000, 2),
        summary: naive.summary,
        server: vNaive,
      },
      loop_ratio: tLoop / tOurs,
      naive_ratio: tNaive / tOurs,
    };
  } finally {
    await Promise.all([emuOurs.close(), emuLoop.close(), emuNaive.close()]);
  }
}

/**
 * Scenario 1: our run and both baselines side by side (each against its own emulator), three
 * times; the figures are medians over the runs.
 */
export async function scenarioRateLimited(ctx) {
  // 20,000 records (200 batches): 15 s at the limit after the burst, as in issue 15's report.
  const seconds = 15;
  const repeats = ctx.quick ? 1 : 3;
  const records = recordsFor(seconds);
  const dir = ctx.dir('s1');
  const file = await writeSendJsonl(join(dir, 'backfill.jsonl'), records, 's1');
  const runs = [];
  for (let r = 0; r < repeats; r++) {
    ctx.note(
      `scenario 1 (${r + 1}/${repeats}): ${records} records, ${RPM} rpm burst ${BURST}, ours and two baselines`,
    );
    runs.push(await sideBySide(ctx, file, records, String(r)));
  }
  const med = (f) => median(runs.map(f));
  const all = (f) => runs.map(f).join(', ');
  const share = med((r) => r.ours.server.share_of_limit);
  const late429 = runs.reduce((n, r) => n + r.ours.server.rate_limited_after_5s, 0);
  const early = runs.reduce((n, r) => n + r.ours.server.early_requests, 0);
  const ours429 = runs.reduce((n, r) => n + r.ours.server.rate_limited, 0);
  const loop429 = runs.reduce((n, r) => n + r.docs_loop.server.rate_limited, 0);
  const naive429 = runs.reduce((n, r) => n + r.naive_plimit8.server.rate_limited, 0);
  const loopRatio = round(
    med((r) => r.loop_ratio),
    3,
  );
  const naiveRatio = round(
    med((r) => r.naive_ratio),
    3,
  );
  const physical = (records / BATCH - BURST) / (RPM / 60);
  const rows = [
    row(
      '1',
      'accepted requests / (burst + rate × elapsed), median',
      `${share} (${all((r) => r.ours.server.share_of_limit)})`,
      '≥ 0.95',
      share >= 0.95,
    ),
    row('1', '429s after the first 5 s, all runs', late429, '0', late429 === 0),
    row(
      '1',
      'requests during a Retry-After pause (early_requests), all runs',
      early,
      '0',
      early === 0,
    ),
    row(
      '1',
      'every document stored exactly once, exit 0, every run',
      runs.map((r) => `${r.ours.server.stored.count}/${records}`).join(', '),
      'all, exit 0',
      runs.every((r) => r.ours.server.exactly_once && r.ours.exit_code === 0),
    ),
    row(
      '1',
      `completion time (s), start to last accepted answer: ours (physical limit after the burst: ${physical} s)`,
      `${med((r) => r.ours.completion_s)} (${all((r) => r.ours.completion_s)})`,
      'info',
      null,
    ),
    row(
      '1',
      `docs loop time ÷ ours, median (429s: ours ${ours429}, loop ${loop429})`,
      `${loopRatio} (${all((r) => round(r.loop_ratio, 3))})`,
      '≥ 1.01, fewer 429s',
      loopRatio >= 1.01 && ours429 < loop429,
    ),
    row(
      '1',
      `naive p-limit(8) time ÷ ours, median (429s: ours ${ours429}, p-limit ${naive429})`,
      `${naiveRatio} (${all((r) => round(r.naive_ratio, 3))})`,
      '≥ 1.01, fewer 429s',
      naiveRatio >= 1.01 && ours429 < naive429,
    ),
  ];
  return { rows, details: { records, rpm: RPM, burst: BURST, batch_size: BATCH, runs } };
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
