// Scenario 5: export. Memories per second of `synap export -o FILE` against the emulator's own
// list throughput in the same run: a plain sequential fetch() loop over every page (the same
// page size), parsing each body. The targets are at 1,000,000 memories (throughput ÷ the loop,
// and peak RSS ÷ the 100,000 export's), alternated with the loop, medians of 3. The 100,000 and
// 10,000 figures are for information: a whole run of 100,000 lasts about 2 s, so the CLI's
// start-up (about 0.5 s: Node, modules, whoami) weighs on it far more than on a real export.
import { createReadStream, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmulatorWorker } from '../lib/emulator.js';
import { runSynap, summaryOf } from '../lib/cli.js';
import { median, round } from '../lib/measure.js';

const PAGE_SIZE = 100;
/**
 * For the flatness check: V8 grows its young generation (up to 16 MB semi-spaces) under any
 * sustained allocation, which a 10,000-memory export is too short to trigger; capping it
 * leaves what grows with the number of memories.
 */
const CAPPED_NURSERY = { NODE_OPTIONS: '--max-semi-space-size=4' };

async function seed(emu, from, to) {
  let next = from;
  const worker = async () => {
    for (;;) {
      const start = next;
      next += 100;
      if (start >= to) return;
      const documents = [];
      for (let i = start; i < Math.min(to, start + 100); i++) {
        documents.push({
          document: `User: ticket ${i}: the printer on floor ${i % 9} is jammed again.\nAssistant: noted, a technician is on the way.`,
          document_type: 'ai-chat-conversation',
          document_id: `s5-${i}`,
          document_created_at: '2024-05-01T10:00:00Z',
          user_id: `u${i % 50}`,
          customer_id: 'acme',
          mode: 'fast',
          metadata: { i, source: 'bench' },
        });
      }
      const res = await fetch(`${emu.url}/api/v1/memories/batch`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${emu.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ documents, fail_fast: false }),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`seed batch answered ${res.status}`);
      const { failed, results } = JSON.parse(text);
      if (failed > 0) {
        const first = results.find((r) => r.status === 'failed');
        throw new Error(`seed batch: ${failed} documents refused (${first?.error_message})`);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** The emulator's own list throughput: one page after another, each body parsed. */
async function listLoop(emu) {
  const started = performance.now();
  let count = 0;
  for (let page = 1; ; page++) {
    const res = await fetch(`${emu.url}/api/v1/memories?page=${page}&page_size=${PAGE_SIZE}`, {
      headers: { Authorization: `Bearer ${emu.apiKey}` },
    });
    if (res.status !== 200) throw new Error(`list answered ${res.status}`);
    const body = await res.json();
    count += body.data.length;
    if (body.data.length === 0 || page >= body.total_pages) break;
  }
  const ms = performance.now() - started;
  return { count, per_s: Math.round((count / ms) * 1000) };
}

/** Lines and distinct memory ids of an export file, read a line at a time. */
async function countExport(file) {
  const ids = new Set();
  let lines = 0;
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    lines += 1;
    ids.add(JSON.parse(line).memory_id);
  }
  return { lines, distinct: ids.size };
}

async function exportOnce(ctx, emu, dir, expected, tag, env = {}) {
  const file = join(dir, `export-${tag}.jsonl`);
  const run = await runSynap(
    ['--json', '--quiet', 'export', '-o', file, '--page-size', String(PAGE_SIZE)],
    { dir, emu, env, timeoutMs: 3_600_000 },
  );
  summaryOf(run, 'synap export');
  if (run.code !== 0) throw new Error(`export exited ${run.code}: ${run.stderr.slice(-2000)}`);
  const { lines, distinct } = await countExport(file);
  rmSync(file, { force: true });
  if (lines !== expected || distinct !== expected) {
    throw new Error(`export wrote ${lines} lines, ${distinct} distinct (expected ${expected})`);
  }
  return {
    per_s: Math.round((expected / run.wallMs) * 1000),
    wall_s: round(run.wallMs / 1000, 2),
    cpu_s: round(run.cpuMs / 1000, 2),
    peak_rss_mb: round(run.maxRssMb, 1),
  };
}

export async function scenarioExport(ctx) {
  const total = ctx.quick ? 20_000 : 100_000;
  const small = total / 10;
  const repeats = ctx.quick ? 1 : 3;
  const dir = ctx.dir('s5');
  const emu = await startEmulatorWorker({ tier: 'unlimited', seed: 5 });
  try {
    ctx.note(`scenario 5: seeding ${small} memories`);
    await seed(emu, 0, small);
    await listLoop(emu); // warm-up: JIT, SQLite page cache
    const smallRun = await exportOnce(ctx, emu, dir, small, 'small');
    const smallCapped = await exportOnce(ctx, emu, dir, small, 'small-capped', CAPPED_NURSERY);
    ctx.note(`scenario 5: seeding up to ${total} memories`);
    await seed(emu, small, total);
    await listLoop(emu);
    const loops = [];
    const exports = [];
    for (let i = 0; i < repeats; i++) {
      loops.push(await listLoop(emu));
      exports.push(await exportOnce(ctx, emu, dir, total, String(i)));
    }
    loops.push(await listLoop(emu));
    const capped = await exportOnce(ctx, emu, dir, total, 'capped', CAPPED_NURSERY);
    const big = ctx.quick ? undefined : await million(ctx, emu, dir, total, capped, repeats);
    const loopPerS = median(loops.map((l) => l.per_s));
    const exportPerS = median(exports.map((e) => e.per_s));
    const rss = median(exports.map((e) => e.peak_rss_mb));
    const ratio = round(exportPerS / loopPerS, 3);
    const rssRatio = round(rss / smallRun.peak_rss_mb, 2);
    const cappedRatio = round(capped.peak_rss_mb / smallCapped.peak_rss_mb, 2);
    const n = (x) => x.toLocaleString('en-US');
    return {
      rows: [
        {
          scenario: '5',
          figure: `export of ${n(total)} memories/s ÷ emulator list loop, start-up included (${exportPerS} vs ${loopPerS}/s)`,
          value: ratio,
          target: 'info',
          pass: null,
        },
        {
          scenario: '5',
          figure: `export peak RSS ${n(total)} ÷ ${n(small)}, V8 nursery capped at 4 MB (${capped.peak_rss_mb} / ${smallCapped.peak_rss_mb} MB)`,
          value: cappedRatio,
          target: 'info',
          pass: null,
        },
        {
          scenario: '5',
          figure: `export peak RSS ${n(total)} ÷ ${n(small)}, V8 defaults (${rss} / ${smallRun.peak_rss_mb} MB)`,
          value: rssRatio,
          target: 'info',
          pass: null,
        },
        ...(big?.rows ?? []),
      ],
      details: {
        memories: total,
        page_size: PAGE_SIZE,
        list_loop: loops,
        exports,
        export_small: { memories: small, ...smallRun },
        export_capped_nursery: { memories: total, ...capped },
        export_small_capped_nursery: { memories: small, ...smallCapped },
        million: big?.details,
      },
    };
  } finally {
    await emu.close();
  }
}

/**
 * 1,000,000 memories (after the 100,000 above): export ÷ the emulator's own list loop, and peak
 * RSS ÷ the 100,000 export's, both with V8's nursery capped; the loop and the export alternate,
 * medians of `repeats`. An emulator that lists with OFFSET makes this take many minutes and
 * measure mostly its own deep pages.
 */
async function million(ctx, emu, dir, from, cappedSmaller, repeats) {
  const total = 1_000_000;
  ctx.note(`scenario 5: seeding up to ${total} memories`);
  const seeded = performance.now();
  await seed(emu, from, total);
  const seedS = round((performance.now() - seeded) / 1000, 1);
  ctx.note(
    `scenario 5: ${total} memories seeded in ${seedS} s; list loop and export, ${repeats} times`,
  );
  const loops = [];
  const exports = [];
  for (let i = 0; i < repeats; i++) {
    loops.push(await listLoop(emu));
    exports.push(await exportOnce(ctx, emu, dir, total, `million-${i}`, CAPPED_NURSERY));
  }
  loops.push(await listLoop(emu));
  const loopPerS = median(loops.map((l) => l.per_s));
  const exportPerS = median(exports.map((e) => e.per_s));
  const rss = median(exports.map((e) => e.peak_rss_mb));
  const ratio = round(exportPerS / loopPerS, 3);
  const rssRatio = round(rss / cappedSmaller.peak_rss_mb, 2);
  return {
    rows: [
      {
        scenario: '5',
        figure: `export of 1,000,000 memories/s ÷ emulator list loop, median of ${repeats} (${exportPerS} vs ${loopPerS}/s)`,
        value: ratio,
        target: '≥ 0.90',
        pass: ratio >= 0.9,
      },
      {
        scenario: '5',
        figure: `export peak RSS 1,000,000 ÷ ${from.toLocaleString('en-US')}, V8 nursery capped (${rss} / ${cappedSmaller.peak_rss_mb} MB)`,
        value: rssRatio,
        target: '≤ 1.2',
        pass: rssRatio <= 1.2,
      },
    ],
    details: { memories: total, seed_s: seedS, list_loops: loops, exports },
  };
}
