// Scenario 4: client overhead. `synap ingest --dry-run` reads, maps, validates and derives ids for
// every record and sends nothing, so its CPU time is the client's own cost per record. Measured
// on the child process (CPU user + system, peak RSS) for 1,000,000 records as JSONL and as CSV,
// and for 100,000 records to check that memory stays flat. Medians of 3 repeats, the runs of a
// repeat one after another so that a busy machine weighs on all of them alike.
//
// CSV memory, as in the export and mbox scenarios: V8 grows its young generation (up to 16 MB
// semi-spaces) and lets old space grow with the allocation rate of a long run, which a shorter
// run never reaches; that growth is the collector's, not something kept per record (the heap
// after a full GC is ~12 MB for both sizes). The judged CSV row caps the nursery
// (--max-semi-space-size=4) for both runs, so what it measures is what grows with the input;
// the ratio with V8's defaults is printed as info.
//
// BENCH_OVERHEAD_COMPARE=path/to/other/bin/synap.js also runs that build's CSV dry runs in each
// repeat (a before/after measured side by side on the same machine at the same time).
import { join } from 'node:path';
import { runSynap, summaryOf } from '../lib/cli.js';
import { writeOverheadCsv, writeOverheadJsonl } from '../lib/inputs.js';
import { median, round } from '../lib/measure.js';

const CAPPED_NURSERY = { NODE_OPTIONS: '--max-semi-space-size=4' };

async function dryRun(dir, file, records, { script, env } = {}) {
  const run = await runSynap(['--json', 'ingest', file, '--dry-run'], { dir, script, env });
  const s = summaryOf(run, `${script ?? 'synap'} ingest --dry-run`);
  if (run.code !== 0 || s.records_read !== records || s.failed !== 0) {
    throw new Error(
      `dry run of ${file}: exit ${run.code}, ${s.records_read} read, ${s.failed} failed`,
    );
  }
  return {
    cpu_us_per_record: round((run.cpuMs * 1000) / records, 2),
    wall_s: round(run.wallMs / 1000, 2),
    peak_rss_mb: round(run.maxRssMb, 1),
  };
}

function summarize(records, runs) {
  return {
    records,
    runs,
    cpu_us_per_record: median(runs.map((r) => r.cpu_us_per_record)),
    wall_s: median(runs.map((r) => r.wall_s)),
    peak_rss_mb: median(runs.map((r) => r.peak_rss_mb)),
    records_per_s: Math.round(records / median(runs.map((r) => r.wall_s))),
  };
}

/** Per repeat, the ratio of a figure of two runs; the median and every repeat's value. */
function ratio(a, b, key = 'peak_rss_mb') {
  const each = a.runs.map((r, i) => round(r[key] / b.runs[i][key], 2));
  return { value: round(median(each), 2), each };
}

export async function scenarioOverhead(ctx) {
  const big = ctx.quick ? 200_000 : 1_000_000;
  const small = big / 10;
  const repeats = ctx.quick ? 1 : 3;
  const compare = process.env.BENCH_OVERHEAD_COMPARE;
  const dir = ctx.dir('s4');
  ctx.note(`scenario 4: generating ${big} and ${small} records (JSONL, CSV)`);
  const files = {
    jsonlBig: await writeOverheadJsonl(join(dir, 'big.jsonl'), big),
    jsonlSmall: await writeOverheadJsonl(join(dir, 'small.jsonl'), small),
    csvBig: await writeOverheadCsv(join(dir, 'big.csv'), big),
    csvSmall: await writeOverheadCsv(join(dir, 'small.csv'), small),
  };
  const plan = {
    jsonl: [files.jsonlBig, big, {}],
    jsonl_small: [files.jsonlSmall, small, {}],
    csv: [files.csvBig, big, {}],
    csv_small: [files.csvSmall, small, {}],
    csv_capped: [files.csvBig, big, { env: CAPPED_NURSERY }],
    csv_small_capped: [files.csvSmall, small, { env: CAPPED_NURSERY }],
    ...(compare
      ? {
          compared_csv: [files.csvBig, big, { script: compare }],
          compared_csv_small: [files.csvSmall, small, { script: compare }],
          compared_csv_capped: [files.csvBig, big, { script: compare, env: CAPPED_NURSERY }],
          compared_csv_small_capped: [
            files.csvSmall,
            small,
            { script: compare, env: CAPPED_NURSERY },
          ],
        }
      : {}),
  };
  ctx.note(
    `scenario 4: dry runs, ${repeats} repeat(s) of ${Object.keys(plan).length}${compare ? ` (compared with ${compare})` : ''}`,
  );
  const runs = Object.fromEntries(Object.keys(plan).map((k) => [k, []]));
  for (let i = 0; i < repeats; i++) {
    for (const [key, [file, records, opts]] of Object.entries(plan)) {
      runs[key].push(await dryRun(dir, file, records, opts));
    }
  }
  const m = Object.fromEntries(
    Object.entries(plan).map(([key, [, records]]) => [key, summarize(records, runs[key])]),
  );
  const jsonlRss = round(m.jsonl.peak_rss_mb / m.jsonl_small.peak_rss_mb, 2);
  const csvRss = ratio(m.csv, m.csv_small);
  const csvRssCapped = ratio(m.csv_capped, m.csv_small_capped);
  const n = (x) => x.toLocaleString('en-US');
  const cpuRuns = (s) => `[${s.runs.map((r) => r.cpu_us_per_record).join(', ')}]`;
  const rows = [
    {
      scenario: '4',
      figure: `JSONL dry run, CPU µs/record (${n(big)} records, ${m.jsonl.records_per_s}/s)`,
      value: m.jsonl.cpu_us_per_record,
      target: '≤ 10',
      pass: m.jsonl.cpu_us_per_record <= 10,
    },
    {
      scenario: '4',
      figure: `CSV dry run, CPU µs/record (${n(big)} records, ${m.csv.records_per_s}/s) ${cpuRuns(m.csv)}`,
      value: m.csv.cpu_us_per_record,
      target: '≤ 8',
      pass: m.csv.cpu_us_per_record <= 8,
    },
    {
      scenario: '4',
      figure: `JSONL peak RSS ${n(big)} ÷ ${n(small)} (${m.jsonl.peak_rss_mb} / ${m.jsonl_small.peak_rss_mb} MB)`,
      value: jsonlRss,
      target: '≤ 1.2',
      pass: jsonlRss <= 1.2,
    },
    {
      scenario: '4',
      figure: `CSV peak RSS ${n(big)} ÷ ${n(small)}, V8 defaults (${m.csv.peak_rss_mb} / ${m.csv_small.peak_rss_mb} MB) [${csvRss.each.join(', ')}]`,
      value: csvRss.value,
      target: 'info',
      pass: null,
    },
    {
      scenario: '4',
      figure: `CSV peak RSS ${n(big)} ÷ ${n(small)}, nursery capped (${m.csv_capped.peak_rss_mb} / ${m.csv_small_capped.peak_rss_mb} MB) [${csvRssCapped.each.join(', ')}]`,
      value: csvRssCapped.value,
      target: '≤ 1.2',
      pass: csvRssCapped.value <= 1.2,
    },
  ];
  if (compare) {
    const cpuRatio = ratio(m.csv, m.compared_csv, 'cpu_us_per_record');
    const cRss = ratio(m.compared_csv, m.compared_csv_small);
    const cRssCapped = ratio(m.compared_csv_capped, m.compared_csv_small_capped);
    rows.push(
      {
        scenario: '4',
        figure: `CSV dry run, CPU µs/record of ${compare} ${cpuRuns(m.compared_csv)}`,
        value: m.compared_csv.cpu_us_per_record,
        target: 'info',
        pass: null,
      },
      {
        scenario: '4',
        figure: `CSV dry run CPU, this build ÷ ${compare} (per repeat) [${cpuRatio.each.join(', ')}]`,
        value: cpuRatio.value,
        target: 'info',
        pass: null,
      },
      {
        scenario: '4',
        figure: `CSV peak RSS ${n(big)} ÷ ${n(small)} of ${compare}, V8 defaults (${m.compared_csv.peak_rss_mb} / ${m.compared_csv_small.peak_rss_mb} MB) [${cRss.each.join(', ')}]`,
        value: cRss.value,
        target: 'info',
        pass: null,
      },
      {
        scenario: '4',
        figure: `CSV peak RSS ${n(big)} ÷ ${n(small)} of ${compare}, nursery capped (${m.compared_csv_capped.peak_rss_mb} / ${m.compared_csv_small_capped.peak_rss_mb} MB) [${cRssCapped.each.join(', ')}]`,
        value: cRssCapped.value,
        target: 'info',
        pass: null,
      },
    );
  }
  return { rows, details: { ...m, repeats, compared: compare ?? null } };
}
