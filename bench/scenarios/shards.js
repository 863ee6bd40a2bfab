// Scenario 11: four `synap ingest --shard i/4` processes started together against one key
// (600/min, burst 50, a token bucket), 30,000 records in batches of 100, once with the
// emulator's X-RateLimit-* headers and once without. Three runs of each, medians.
//
// The figure is the key's use over the whole run, as a user waiting for the last shard sees it:
// requests the server accepted (every request it counted: batches and each shard's pre-flight)
// ÷ (burst + rate × wall time from the first shard's spawn to the last shard's exit). With
// headers also: no 429 after the first 5 s. Every run: every record stored exactly once, every
// shard exit 0.
//
// The details (bench/results/*.json) keep a timeline per run: for each shard, its spawn, its
// first request and first batch (from its -v lines, timed as they arrive) and its exit, all
// relative to the first spawn; and the server's accepted requests and 429s per second.
//
// BENCH_SHARDS_COMPARE=path/to/other/bin/synap.js runs that build in the same repeats too
// (alternated with ours, each against its own emulator, one after the other), so a change is
// measured side by side with the build before it.
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmulatorWorker } from '../lib/emulator.js';
import { BIN, cleanEnv } from '../lib/cli.js';
import { writeSendJsonl } from '../lib/inputs.js';
import { countIn, entries, median, round } from '../lib/measure.js';

const RPM = 600;
const BURST = 50;
const BATCH = 100;
const SHARDS = 4;

/** Epoch ms with sub-ms precision, the clock of the emulator thread's request log. */
const now = () => performance.timeOrigin + performance.now();

/** One shard process; its -v lines are timed as they arrive (less the request's own ms). */
function startShard(script, input, index, env, cwd) {
  const args = [
    script,
    '--json',
    '-v',
    'ingest',
    input,
    '--shard',
    `${index}/${SHARDS}`,
    '--batch-size',
    String(BATCH),
  ];
  const startedAt = now();
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let partial = '';
  let firstRequest;
  let firstBatch;
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => {
    const at = now();
    err += d;
    const lines = (partial + d).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const m = /^synap: http (\S+) (\S+) \S+ (\d+)ms/.exec(line);
      if (!m) continue;
      const sent = at - Number(m[3]);
      firstRequest ??= sent;
      if (m[1] === 'POST' && m[2].startsWith('/api/v1/memories/batch')) firstBatch ??= sent;
    }
  });
  const done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      let summary;
      try {
        summary = JSON.parse(out).result;
      } catch {
        // no summary: reported through the exit code and stderr
      }
      resolve({
        index,
        code,
        startedAt,
        exitedAt: now(),
        firstRequest,
        firstBatch,
        summary,
        stderr: err.slice(-2000),
      });
    });
  });
  return done;
}

/** Four shards at once against a fresh emulator; what the server saw. */
async function oneRun(ctx, { script, source, records, headers, tag }) {
  const dir = ctx.dir(`s11-${tag}`);
  // Each run its own copy: state and done files are kept beside the input.
  const input = join(dir, 'backfill.jsonl');
  copyFileSync(source, input);
  const emu = await startEmulatorWorker({
    tier: 'pro',
    rpm: RPM,
    burst: BURST,
    rateHeaders: headers,
    seed: 11,
  });
  try {
    const env = cleanEnv(dir, { SYNAP_BASE_URL: emu.url, SYNAP_API_KEY: emu.apiKey });
    const shards = await Promise.all(
      Array.from({ length: SHARDS }, (_, i) => startShard(script, input, i, env, dir)),
    );
    const [log, docs] = await Promise.all([emu.log(), emu.documentCheck()]);
    const t0 = Math.min(...shards.map((s) => s.startedAt));
    const tEnd = Math.max(...shards.map((s) => s.exitedAt));
    const wallS = (tEnd - t0) / 1000;
    const all = entries(log);
    const total = countIn(log, all);
    const late = countIn(log, all, t0 + 5000);
    const batches = countIn(log, entries(log, 'b'));
    const rel = (t) => (t === undefined ? null : round((t - t0) / 1000, 3));
    const perSecond = [];
    for (let t = t0; t < tEnd; t += 1000) {
      const c = countIn(log, all, t, t + 1000);
      perSecond.push(c.rateLimited ? `${c.ok}+${c.rateLimited}×429` : c.ok);
    }
    const figure = total.ok / (BURST + (RPM / 60) * wallS);
    return {
      figure: round(figure, 3),
      wall_s: round(wallS, 2),
      ideal_s: round((total.ok - BURST) / (RPM / 60), 2),
      accepted_requests: total.ok,
      batch_requests: batches.total,
      rate_limited: total.rateLimited,
      rate_limited_after_5s: late.rateLimited,
      other_statuses: total.other,
      stored: docs,
      exactly_once:
        docs.count === records && docs.distinctIds === records && docs.maxTimesReceived === 1,
      exits: shards.map((s) => s.code),
      accepted_by_shards: shards.reduce((a, s) => a + (s.summary?.accepted ?? 0), 0),
      shards: shards.map((s) => ({
        index: s.index,
        exit_code: s.code,
        spawn_s: rel(s.startedAt),
        first_request_s: rel(s.firstRequest),
        first_batch_s: rel(s.firstBatch),
        exit_s: rel(s.exitedAt),
        accepted: s.summary?.accepted,
        requests: s.summary?.requests,
        rate_limited: s.summary?.rate_limited,
        ...(s.code === 0 ? {} : { stderr: s.stderr }),
      })),
      accepted_per_s: perSecond,
    };
  } finally {
    await emu.close();
  }
}

function summarise(runs, records) {
  const med = (f) => median(runs.map(f));
  const all = (f) => runs.map(f).join(', ');
  return {
    figure: med((r) => r.figure),
    figures: all((r) => r.figure),
    late429: runs.reduce((n, r) => n + r.rate_limited_after_5s, 0),
    all429: runs.reduce((n, r) => n + r.rate_limited, 0),
    once: runs.every(
      (r) => r.exactly_once && r.exits.every((c) => c === 0) && r.accepted_by_shards === records,
    ),
    stored: all((r) => `${r.stored.count}/${records}`),
    wall: med((r) => r.wall_s),
    firstBatch: med((r) => Math.max(...r.shards.map((s) => s.first_batch_s ?? Infinity))),
  };
}

export async function scenarioShards(ctx) {
  const records = ctx.quick ? 12_000 : 30_000;
  const repeats = ctx.quick ? 1 : 3;
  const source = await writeSendJsonl(join(ctx.dir('s11'), 'backfill.jsonl'), records, 's11');
  const compare = process.env.BENCH_SHARDS_COMPARE;
  const builds = [{ name: 'ours', script: BIN }];
  if (compare) builds.push({ name: 'compare', script: compare });
  const results = {};
  for (const headers of [true, false]) {
    const mode = headers ? 'headers' : 'no-headers';
    for (const b of builds) results[`${b.name}-${mode}`] = [];
    for (let r = 0; r < repeats; r++) {
      for (const b of builds) {
        ctx.note(
          `scenario 11 (${mode}, ${r + 1}/${repeats}, ${b.name}): ${SHARDS} shards, ${records} records, ${RPM}/min burst ${BURST}`,
        );
        results[`${b.name}-${mode}`].push(
          await oneRun(ctx, {
            script: b.script,
            source,
            records,
            headers,
            tag: `${b.name}-${mode}-${r}`,
          }),
        );
      }
    }
  }
  const rows = [];
  for (const b of builds) {
    const label = b.name === 'ours' ? '' : ` [${b.script}]`;
    const h = summarise(results[`${b.name}-headers`], records);
    const n = summarise(results[`${b.name}-no-headers`], records);
    const judged = b.name === 'ours';
    rows.push(
      row(
        `4 shards, headers: accepted ÷ (burst + rate × first start to last exit), median${label}`,
        `${h.figure} (${h.figures})`,
        '≥ 0.95',
        judged ? h.figure >= 0.95 : null,
      ),
      row(
        `4 shards, headers: 429s after the first 5 s, all runs (429s in all: ${h.all429})${label}`,
        h.late429,
        '0',
        judged ? h.late429 === 0 : null,
      ),
      row(
        `4 shards, no headers: accepted ÷ (burst + rate × first start to last exit), median${label}`,
        `${n.figure} (${n.figures})`,
        '≥ 0.85',
        judged ? n.figure >= 0.85 : null,
      ),
      row(
        `4 shards: every record stored exactly once, every shard exit 0, every run${label}`,
        `${h.stored}; ${n.stored}`,
        'all, exit 0',
        judged ? h.once && n.once : null,
      ),
      row(
        `4 shards: wall s (headers / no headers) and the last shard's first batch s after the first spawn, medians${label}`,
        `${h.wall} / ${n.wall}; ${h.firstBatch} / ${n.firstBatch}`,
        'info',
        null,
      ),
    );
  }
  return {
    rows,
    details: { records, rpm: RPM, burst: BURST, batch_size: BATCH, shards: SHARDS, results },
  };
}

function row(figure, value, target, pass) {
  return { scenario: '11', figure, value, target, pass };
}
