#!/usr/bin/env node
/**
 * The long kill -9 soak: runs test/e2e/ingest-kill.test.ts (5,000 records, three SIGKILLs at
 * random moments, then a resume) over many seeds and totals what the emulator's store held.
 *
 *   npm run soak                 seeds 1..100
 *   npm run soak -- 101 200      seeds 101..200
 *
 * Exit code 0 only if every seed ran and none lost or duplicated a record.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const from = Number(process.argv[2] ?? 1);
const to = Number(process.argv[3] ?? 100);
if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from) {
  console.error('usage: node test/soak/kill-soak.js [first-seed] [last-seed]');
  process.exit(2);
}
const seeds = Array.from({ length: to - from + 1 }, (_, i) => from + i);
const started = Date.now();

const child = spawn(
  process.execPath,
  [
    resolve(root, 'node_modules/vitest/vitest.mjs'),
    'run',
    'test/e2e/ingest-kill.test.ts',
    '--reporter=dot',
    // Each seed is one test; the default per-test limit stays, but the file may take hours.
    '--testTimeout=300000',
  ],
  {
    cwd: root,
    env: { ...process.env, SYNAP_KILL_SEEDS: seeds.join(',') },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);

const results = new Map();
let buffered = '';
child.stdout.setEncoding('utf8').on('data', (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const m =
      /kill soak \| seed (\d+): kills (\d+), exit (\S+), records (\d+), lost (-?\d+), duplicates (\d+)/.exec(
        line,
      );
    if (m) {
      const [, seed, kills, exit, records, lost, duplicates] = m;
      results.set(Number(seed), {
        kills: Number(kills),
        exit,
        records: Number(records),
        lost: Number(lost),
        duplicates: Number(duplicates),
      });
      process.stdout.write(`${line.trim()}\n`);
    } else if (/Test Files|Tests |FAIL|AssertionError/.test(line)) {
      process.stdout.write(`${line}\n`);
    }
  }
});

child.on('close', (code) => {
  const rows = [...results.values()];
  const sum = (k) => rows.reduce((a, r) => a + r[k], 0);
  const missing = seeds.filter((s) => !results.has(s));
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(
    `\nkill -9 soak: ${rows.length}/${seeds.length} seeds (${from}..${to}) in ${minutes} min; ` +
      `${sum('kills')} SIGKILLs; ${sum('records')} records; lost ${sum('lost')}; ` +
      `duplicates ${sum('duplicates')}; resumes that failed ${rows.filter((r) => r.exit !== '0').length}`,
  );
  if (missing.length > 0) console.log(`seeds without a result: ${missing.join(', ')}`);
  const clean = code === 0 && missing.length === 0 && sum('lost') === 0 && sum('duplicates') === 0;
  process.exit(clean ? 0 : 1);
});
