// `npm run bench`: runs the benchmark scenarios against the built CLI and emulator,
// prints one table (scenario, figure, target, PASS/FAIL) and writes the details to
// bench/results/<timestamp>.json. See bench/README.md.
//
//   node bench/run.js [--only 1,3] [--quick] [--keep]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { makeWorkDir } from './lib/inputs.js';
import { scenarioRateLimited, scenarioUnknownLimit } from './scenarios/rate-limited.js';
import { scenarioLatencyBound } from './scenarios/latency-bound.js';
import { scenarioOverhead } from './scenarios/overhead.js';
import { scenarioExport } from './scenarios/export.js';
import { scenarioServerCounters } from './scenarios/server-counters.js';
import { scenarioRateShare } from './scenarios/rate-share.js';
import { scenarioStartup } from './scenarios/startup.js';
import { scenarioConversations } from './scenarios/conversations.js';
import { scenarioNightly } from './scenarios/nightly.js';
import { scenarioShards } from './scenarios/shards.js';

const SCENARIOS = {
  1: { name: 'rate-limited backfill', run: scenarioRateLimited },
  2: { name: 'unknown limit', run: scenarioUnknownLimit },
  3: { name: 'latency-bound', run: scenarioLatencyBound },
  4: { name: 'client overhead', run: scenarioOverhead },
  5: { name: 'export', run: scenarioExport },
  6: {
    name: 'resume',
    run: (c) => import('./scenarios/resume.js').then((m) => m.scenarioResume(c)),
  },
  7: { name: 'server counters', run: scenarioServerCounters },
  8: { name: 'rate share', run: scenarioRateShare },
  9: { name: 'conversation exports', run: scenarioConversations },
  10: { name: 'second night', run: scenarioNightly },
  11: { name: 'shards on one key', run: scenarioShards },
  startup: { name: 'startup', run: scenarioStartup },
  mbox: {
    name: 'mbox memory',
    run: (c) => import('./scenarios/mbox.js').then((m) => m.scenarioMbox(c)),
  },
};

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const only = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(SCENARIOS);
for (const id of only) {
  if (!SCENARIOS[id]) {
    console.error(`unknown scenario "${id}" (have ${Object.keys(SCENARIOS).join(', ')})`);
    process.exit(2);
  }
}

const work = makeWorkDir();
const ctx = {
  quick: values.quick,
  dir(name) {
    const d = join(work.dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  },
  note(message) {
    process.stderr.write(`bench: ${message}\n`);
  },
};

const startedAt = new Date();
const rows = [];
const details = {};
let failed = false;
try {
  for (const id of only) {
    const { name, run } = SCENARIOS[id];
    const t0 = performance.now();
    ctx.note(`scenario ${id} (${name}) ...`);
    try {
      const result = await run(ctx);
      rows.push(...result.rows);
      details[id] = { name, seconds: Math.round((performance.now() - t0) / 100) / 10, ...result };
    } catch (err) {
      failed = true;
      ctx.note(`scenario ${id} failed: ${err?.stack ?? err}`);
      rows.push({
        scenario: id,
        figure: `${name}: did not complete`,
        value: 'error',
        target: '',
        pass: false,
      });
      details[id] = { name, error: String(err?.stack ?? err) };
    }
    ctx.note(`scenario ${id} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
} finally {
  if (values.keep) ctx.note(`inputs kept in ${work.dir}`);
  else work.cleanup();
}

printTable(rows);
const resultsDir = new URL('./results/', import.meta.url).pathname;
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      started_at: startedAt.toISOString(),
      quick: values.quick,
      only,
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model,
        mem_gb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      rows,
      scenarios: details,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nresults: ${file}`);
if (failed || rows.some((r) => r.pass === false)) process.exitCode = 1;

function printTable(list) {
  const cells = list.map((r) => [
    String(r.scenario),
    r.figure,
    String(r.value),
    r.target,
    r.pass === null || r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const head = ['#', 'figure', 'value', 'target', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) =>
    c
      .map((x, i) => x.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}
