import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Taking over a stale ingest lock is atomic: of many processes that find the same stale lock at
 * the same moment, exactly one proceeds; the rest see a live holder. Each process here is a
 * real one running the built lock module, holding the lock for a while and logging when.
 */

const LOCK_MODULE = resolve(import.meta.dirname, '../../dist/ingest/lock.js');

/**
 * One holder process, through every trial. Once loaded it says "ready" and reads the trials
 * from stdin; at each trial's start time it tries that trial's lock (stale when the trial
 * starts), logs "in"/"out" around holding it for 150 ms and releases it, or finds it held
 * (exit code 5 of the lock error) and goes on to the next trial.
 */
const HOLDER = `
import { appendFileSync } from 'node:fs';
const { acquireLock } = await import(process.argv[1]);
process.stdout.write('ready\\n');
let input = '';
for await (const chunk of process.stdin) input += chunk;
const trials = JSON.parse(input);
for (const { lockPath, log, startAt } of trials) {
  await new Promise((r) => setTimeout(r, startAt - Date.now()));
  let lock;
  try {
    lock = await acquireLock(lockPath, { profile: 'p' });
  } catch (err) {
    if (err.exitCode !== 5) process.exit(1);
    continue;
  }
  appendFileSync(log, 'in ' + process.pid + ' ' + Date.now() + '\\n');
  await new Promise((r) => setTimeout(r, 150));
  appendFileSync(log, 'out ' + process.pid + ' ' + Date.now() + '\\n');
  await lock.release();
}
`;

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

interface Trial {
  lockPath: string;
  log: string;
  startAt: number;
}

/**
 * Starts n holders; once every one of them is loaded, sends them all the trials, timed from
 * then by `plan` (so the start times are not missed however long the processes took to load).
 */
async function runHolders(n: number, plan: (now: number) => Trial[]): Promise<number[]> {
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--input-type=module', '-e', HOLDER, LOCK_MODULE], {
      stdio: ['pipe', 'pipe', 'ignore'],
    }),
  );
  const codes = children.map(
    (child) => new Promise<number>((done) => child.on('close', (code) => done(code ?? -1))),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((ready, failed) => {
          child.stdout.once('data', () => ready());
          child.once('close', () => failed(new Error('a holder ended before it was ready')));
        }),
    ),
  );
  const trials = JSON.stringify(plan(Date.now()));
  for (const child of children) child.stdin.end(trials);
  return Promise.all(codes);
}

describe('stale lock takeover', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synap-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('of 24 processes finding one stale lock, exactly one holds it at a time (5 trials)', async () => {
    // The processes start once and meet at each trial's start time, 400 ms apart (past the
    // 150 ms a winner holds), the first 100 ms after the last of them is ready.
    const trials = Array.from({ length: 5 }, (_, trial) => ({
      lockPath: join(dir, `t${trial}.synap-lock`),
      log: join(dir, `t${trial}.log`),
      startAt: 0,
    }));
    for (const { lockPath, log } of trials) {
      writeFileSync(log, '');
      writeFileSync(
        lockPath,
        `${JSON.stringify({ pid: deadPid(), host: hostname(), profile: 'p', started_at: 'x' })}\n`,
      );
    }
    const codes = await runHolders(24, (now) =>
      trials.map((t, i) => ({ ...t, startAt: now + 100 + i * 400 })),
    );
    expect(
      codes.every((c) => c === 0),
      String(codes),
    ).toBe(true);
    trials.forEach(({ log }, trial) => {
      const events = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
      let holding = 0;
      let max = 0;
      for (const e of events) {
        holding += e.startsWith('in ') ? 1 : -1;
        max = Math.max(max, holding);
      }
      expect(max, `trial ${trial}: ${events.join(' | ')}`).toBe(1);
      expect(events.filter((e) => e.startsWith('in ')).length).toBeGreaterThanOrEqual(1);
    });
  }, 120_000);
});
