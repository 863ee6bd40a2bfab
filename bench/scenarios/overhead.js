// Scenario 4: client overhead. `synap ingest --dry-run` reads, maps, validates and derives ids for
// every record and sends nothing, so its CPU time is the client's own cost per record. Measured
// on the child process (CPU user + system, peak RSS) for 1,000,000 records as JSONL and as CSV,
// and for 100,000 records to check that memory stays flat. Medians of 3 repeats.
import { join } from 'node:path';
import { runSynap, summaryOf } from '../lib/cli.js';
import { writeOverheadCsv, writeOverheadJsonl } from '../lib/inputs.js';
import { median, round } from '../lib/measure.js';

async function dryRuns(ctx, dir, file, records, repeats) {
  const runs = [];
  for (let i = 0; i < repeats; i++) {
    const run = await runSynap(['--json', 'ingest', file, '--dry-run'], { dir });
    const s = summaryOf(run, 'synap ingest --dry-run');
    if (run.code !== 0 || s.records_read !== records || s.failed !== 0) {
      throw new Error(
        `dry run of ${file}: exit ${run.code}, ${s.records_read} read, ${s.failed} failed`,
      );
    }
    runs.push({
      cpu_us_per_record: round((run.cpuMs * 1000) / records, 2),
      wall_s: round(run.wallMs / 1000, 2),
      peak_rss_mb: round(run.maxRssMb, 1),
    });
  }
  return {
    records,
    runs,
    cpu_us_per_record: median(runs.map((r) => r.cpu_us_per_record)),
    wall_s: median(runs.map((r) => r.wall_s)),
    peak_rss_mb: median(runs.map((r) => r.peak_rss_mb)),
    records_per_s: Math.round(records / median(runs.map((r) => r.wall_s))),
  };
}

export async function scenarioOverhead(ctx) {
  const big = ctx.quick ? 200_000 : 1_000_000;
  const small = big / 10;
  const repeats = ctx.quick ? 1 : 3;
  const dir = ctx.dir('s4');
  ctx.note(`scenario 4: generating ${big} and ${small} records (JSONL, CSV)`);
  const files = {
    jsonlBig: await writeOverheadJsonl(join(dir, 'big.jsonl'), big),
    jsonlSmall: await writeOverheadJsonl(join(dir, 'small.jsonl'), small),
    csvBig: await writeOverheadCsv(join(dir, 'big.csv'), big),
    csvSmall: await writeOverheadCsv(join(dir, 'small.csv'), small),
  };
  ctx.note(`scenario 4: dry runs, ${repeats} repeat(s) each`);
  const jsonl = await dryRuns(ctx, dir, files.jsonlBig, big, repeats);
  const jsonlSmall = await dryRuns(ctx, dir, files.jsonlSmall, small, repeats);
  const csv = await dryRuns(ctx, dir, files.csvBig, big, repeats);
  const csvSmall = await dryRuns(ctx, dir, files.csvSmall, small, repeats);
  const jsonlRss = round(jsonl.peak_rss_mb / jsonlSmall.peak_rss_mb, 2);
  const csvRss = round(csv.peak_rss_mb / csvSmall.peak_rss_mb, 2);
  const n = (x) => x.toLocaleString('en-US');
  const rows = [
    {
      scenario: '4',
      figure: `JSONL dry run, CPU µs/record (${n(big)} records, ${jsonl.records_per_s}/s)`,
      value: jsonl.cpu_us_per_record,
      target: '≤ 10',
      pass: jsonl.cpu_us_per_record <= 10,
    },
    {
      scenario: '4',
      figure: `CSV dry run, CPU µs/record (${n(big)} records, ${csv.records_per_s}/s)`,
      value: csv.cpu_us_per_record,
      target: 'info',
      pass: null,
    },
    {
      scenario: '4',
      figure: `JSONL peak RSS ${n(big)} ÷ ${n(small)} (${jsonl.peak_rss_mb} / ${jsonlSmall.peak_rss_mb} MB)`,
      value: jsonlRss,
      target: '≤ 1.2',
      pass: jsonlRss <= 1.2,
    },
    {
      scenario: '4',
      figure: `CSV peak RSS ${n(big)} ÷ ${n(small)} (${csv.peak_rss_mb} / ${csvSmall.peak_rss_mb} MB)`,
      value: csvRss,
      target: '≤ 1.2',
      pass: csvRss <= 1.2,
    },
  ];
  return {
    rows,
    details: { jsonl, jsonl_small: jsonlSmall, csv, csv_small: csvSmall, repeats },
  };
}
