import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runInProcess, runOnClock } from '../helpers/in-process.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';
import { useEmulator } from '../helpers/emulator.js';
import { docsOf, FAULTY } from '../helpers/fixtures/ingest-resume.js';

describe('ingest at a tight rate limit with faults, resume, and clean stops', () => {
  const sandbox = makeSandbox();
  let env: Record<string, string>;
  const dir = sandbox.dir;

  useEmulator(sandbox, FAULTY, (_emu, en) => {
    env = en;
  });

  it('10,000 records at 600 rpm with 5% 503s: each stored exactly once; a re-run stores nothing', async () => {
    // The emulator's rate limit and the run's pauses (Retry-After, backoff) on one fake clock:
    // the 100 requests (a burst of 50, then 10 a second) take about 5 s of it, not of the test.
    const clock = new FakeClock(Date.now());
    const paced = await startEmulator({ ...FAULTY, clock });
    try {
      const pacedEnv = { ...env, SYNAP_API_KEY: paced.apiKey, SYNAP_BASE_URL: paced.url };
      writeChatFile(join(dir, 'big.jsonl'), 10_000, 'big');
      const r = await runOnClock(['--json', 'ingest', 'big.jsonl', '--concurrency', '8'], {
        env: pacedEnv,
        cwd: dir,
        timeoutMs: 120_000,
        clock,
      });
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout).result;
      const docs = docsOf(paced, 'big');
      expect(storedOnce(docs)).toEqual({ distinct: 10_000, duplicates: 0 });
      for (const d of docs) expect(d.times_received).toBe(1);
      const stats = paced.stats();
      // Faults were met, and no request arrived inside a Retry-After pause beyond those
      // already in flight at a 429.
      expect(stats.faults.failures).toBeGreaterThan(0);
      expect(stats.early_requests).toBeLessThanOrEqual(stats.rate_limited * 8);
      console.log(
        `10k run: ${s.records_per_s} records/s, ${s.requests} requests, ${s.rate_limited} 429s, ` +
          `${s.retries} retries, ${s.elapsed_s} s; emulator: ${stats.rate_limited} 429s, ` +
          `${stats.early_requests} early, ${stats.faults.failures} injected 503s`,
      );

      const again = await runOnClock(['--json', 'ingest', 'big.jsonl'], {
        env: pacedEnv,
        cwd: dir,
        timeoutMs: 120_000,
        clock,
      });
      expect(again.code, again.stderr).toBe(0);
      // The ledger knows the instance holds every record as it is: nothing is sent.
      expect(JSON.parse(again.stdout).result).toMatchObject({
        accepted: 0,
        sent: 0,
        unchanged: 10_000,
      });
      expect(docsOf(paced, 'big')).toHaveLength(10_000);
    } finally {
      await paced.close();
    }
  }, 240_000);

  it('--max-duration stops cleanly with exit 5 and the next run completes', async () => {
    writeChatFile(join(dir, 'cron.jsonl'), 600, 'cron');
    // The runs and the emulator's rate limit (120 a minute, a burst of 5) share one fake clock
    // that stands still until the first batch reaches the emulator: the start-up's real work,
    // slow on a loaded machine, spends none of the 4 s, and the stop comes part-way. No injected
    // faults here: a 503 before the first batch would be waited out on the held clock, for ever.
    const clock = new FakeClock(Date.now());
    const paced = await startEmulator({ processingDelayMs: 0, rpm: 120, burst: 5, clock });
    try {
      const pacedEnv = { ...env, SYNAP_API_KEY: paced.apiKey, SYNAP_BASE_URL: paced.url };
      const firstBatch = (async () => {
        while ((paced.stats().requests_by_endpoint.batch ?? 0) === 0) {
          await new Promise((r) => setTimeout(r, 2).unref());
        }
      })();
      const args = ['--json', 'ingest', 'cron.jsonl', '--batch-size', '5'];
      const first = await runOnClock([...args, '--max-duration', '4s'], {
        env: pacedEnv,
        cwd: dir,
        clock,
        holdUntil: firstBatch,
      });
      expect(first.code, first.stderr).toBe(5);
      const s1 = JSON.parse(first.stdout).result;
      expect(s1).toMatchObject({ status: 'stopped', stop_reason: 'max-duration' });
      expect(s1.sent).toBeLessThan(600);
      expect(existsSync(join(dir, 'cron.jsonl.synap-state.json'))).toBe(true);

      const second = await runOnClock(args, { env: pacedEnv, cwd: dir, clock });
      expect(second.code, second.stderr).toBe(0);
      expect(storedOnce(docsOf(paced, 'cron'))).toEqual({ distinct: 600, duplicates: 0 });
      expect(existsSync(join(dir, 'cron.jsonl.synap-state.json'))).toBe(false);
    } finally {
      await paced.close();
    }
  }, 60_000);

  it('--max-errors stops after N failed records, resumable', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      lines.push(JSON.stringify(i % 4 === 1 ? { nodoc: i } : { document: `User: maxerr ${i}` }));
    }
    writeFileSync(join(dir, 'maxerr.jsonl'), `${lines.join('\n')}\n`);
    const r = await runInProcess(['--json', 'ingest', 'maxerr.jsonl', '--max-errors', '3'], {
      env,
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(5);
    expect(JSON.parse(r.stdout).result).toMatchObject({ failed: 3, stop_reason: 'max-errors' });
    const resumed = await runInProcess(['--json', 'ingest', 'maxerr.jsonl'], { env, cwd: dir });
    expect(resumed.code).toBe(3);
    // The resumed run appended the rest of the failures: 10 in all, each once.
    const failures = readFileSync(join(dir, 'maxerr.jsonl.failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).line);
    expect(failures).toEqual([2, 6, 10, 14, 18, 22, 26, 30, 34, 38]);
  }, 60_000);

  it('without rate headers the limit is learnt from 429s: each record once, no burst into a pause', async () => {
    const clock = new FakeClock(Date.now());
    const blind = await startEmulator({
      processingDelayMs: 0,
      rpm: 600,
      burst: 50,
      failRate: 0.05,
      rateHeaders: false,
      seed: 11,
      clock,
    });
    try {
      writeChatFile(join(dir, 'blind.jsonl'), 2_000, 'blind');
      const r = await runOnClock(
        ['--json', 'ingest', 'blind.jsonl', '--batch-size', '10', '--concurrency', '8'],
        {
          env: { ...env, SYNAP_API_KEY: blind.apiKey, SYNAP_BASE_URL: blind.url },
          cwd: dir,
          timeoutMs: 90_000,
          clock,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const docs = blind.documents().filter((d) => d.document.startsWith('User: blind message '));
      expect(storedOnce(docs)).toEqual({ distinct: 2_000, duplicates: 0 });
      const stats = blind.stats();
      // The first burst runs into the limit; after that every worker waits out the Retry-After.
      expect(stats.early_requests).toBeLessThanOrEqual(stats.rate_limited * 8);
      const s = JSON.parse(r.stdout).result;
      console.log(
        `2k blind run: ${s.records_per_s} records/s, ${s.requests} requests, ${stats.rate_limited} 429s, ` +
          `${stats.early_requests} early, ${stats.faults.failures} injected 503s`,
      );
    } finally {
      await blind.close();
    }
  }, 100_000);
});

describe('a resume seeks past the settled prefix of a JSON Lines file', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;

  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
    env = { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  it('lines under the checkpoint are not parsed again, and a change there is refused', async () => {
    const n = 3000;
    const bad = 2000;
    const line = (i: number) =>
      JSON.stringify(i === bad ? { nodoc: i } : { document: `seek ${i} ${'s'.repeat(280)}` });
    const path = join(sandbox.dir, 'seek.jsonl');
    writeFileSync(path, `${Array.from({ length: n }, (_, i) => line(i)).join('\n')}\n`);
    // A whole-second modification time, so putting the bytes back can restore it exactly.
    const mtime = new Date(Math.floor(statSync(path).mtimeMs / 1000) * 1000 - 60_000);
    utimesSync(path, mtime, mtime);
    const first = await runInProcess(['--json', 'ingest', path, '--fail-fast'], { env });
    expect(first.code, first.stderr).toBe(5);
    const state = JSON.parse(readFileSync(`${path}.synap-state.json`, 'utf8')) as {
      settled_records: number;
      resume_from: { seek: { byte: number; line: number } | null };
    };
    const seek = state.resume_from.seek!;
    expect(seek.byte).toBeGreaterThan(200_000);

    // Split one settled line in the middle of the prefix into two lines of the same bytes (same
    // size, same head and tail, same modification time). A resume that trusted the seek alone
    // would lose a record; the running hash of the prefix sees the change.
    const text = readFileSync(path, 'utf8');
    const at = text.indexOf(line(500));
    expect(at).toBeGreaterThan(70_000);
    const split = `{"document":"a"}\n{"document":"${'b'.repeat(line(500).length - 32)}"}`;
    expect(split).toHaveLength(line(500).length);
    writeFileSync(path, text.slice(0, at) + split + text.slice(at + split.length));
    utimesSync(path, mtime, mtime);
    const stored = emu.documents().length;
    const refused = await runInProcess(['--json', 'ingest', path], { env });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('--restart');
    expect(emu.documents().length).toBe(stored);

    // The input as it was: the resume seeks past the prefix and parses only what follows.
    writeFileSync(path, text);
    utimesSync(path, mtime, mtime);
    const resumed = await runInProcess(['--json', 'ingest', path], { env });
    expect(resumed.code, resumed.stderr).toBe(3);
    const s = JSON.parse(resumed.stdout).result;
    expect(s).toMatchObject({ resumed_past: state.settled_records, failed: 1 });
    expect(s.records_read).toBe(n - state.settled_records);
    const docs = emu.documents().map((d) => d.document);
    expect(docs).toHaveLength(n - 1);
    expect(new Set(docs).size).toBe(n - 1);
  }, 60_000);
});
