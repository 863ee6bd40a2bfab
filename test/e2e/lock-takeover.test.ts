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

const HOLDER = `
import { appendFileSync } from 'node:fs';
const { acquireLock } = await import(process.argv[1]);
const [lockPath, log] = process.argv.slice(2);
await new Promise((r) => setTimeout(r, Number(process.env.START_AT) - Date.now()));
let lock;
try {
  lock = await acquireLock(lockPath, { profile: 'p' });
} catch (err) {
  process.exit(err.exitCode === 5 ? 5 : 1);
}
appendFileSync(log, 'in ' + process.pid + ' ' + Date.now() + '\\n');
await new Promise((r) => setTimeout(r, 150));
appendFileSync(log, 'out ' + process.pid + ' ' + Date.now() + '\\n');
await lock.release();
`;

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

function runHolders(n: number, lockPath: string, log: string): Promise<number[]> {
  const startAt = String(Date.now() + 1500);
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<number>((done) => {
          const child = spawn(
            process.execPath,
            ['--input-type=module', '-e', HOLDER, LOCK_MODULE, lockPath, log],
            { env: { ...process.env, START_AT: startAt }, stdio: 'ignore' },
          );
          child.on('close', (code) => done(code ?? -1));
        }),
    ),
  );
}

describe('stale lock takeover', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synap-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('of 24 processes finding one stale lock, exactly one holds it at a time (5 trials)', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const lockPath = join(dir, `t${trial}.synap-lock`);
      const log = join(dir, `t${trial}.log`);
      writeFileSync(log, '');
      writeFileSync(
        lockPath,
        `${JSON.stringify({ pid: deadPid(), host: hostname(), profile: 'p', started_at: 'x' })}\n`,
      );
      const codes = await runHolders(24, lockPath, log);
      expect(
        codes.every((c) => c === 0 || c === 5),
        String(codes),
      ).toBe(true);
      const events = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
      let holding = 0;
      let max = 0;
      for (const e of events) {
        holding += e.startsWith('in ') ? 1 : -1;
        max = Math.max(max, holding);
      }
      expect(max, `trial ${trial}: ${events.join(' | ')}`).toBe(1);
      expect(events.filter((e) => e.startsWith('in ')).length).toBeGreaterThanOrEqual(1);
    }
  }, 120_000);
});
