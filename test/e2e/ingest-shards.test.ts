import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli, spawnCli, type CliProcess } from '../helpers/cli.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';

/** The key's limit: 20 requests a second, a bucket of 10. */
const RPM = 1200;
const BURST = 10;
const SHARDS = 4;
/** 2,400 records in batches of 10: 240 requests, about 12 s at the key's limit. */
const N = 2400;
const BATCH = 10;
/** The first seconds of every shard (the burst, learning the limit) are not judged. */
const WARM_UP_MS = 2000;

interface Sample {
  at: number;
  /** Shards that have had their first answer (their -v lines on stderr). */
  answered: number;
  /** Answers that took a token (everything but 429s). */
  served: number;
  rateLimited: number;
}

/**
 * Four shard processes on one key at once, against one emulator: every record stored exactly
 * once (the emulator's store is the judge), few 429s, the key's limit used; then two shards
 * killed with SIGKILL and run again, still exactly once.
 */
describe('ingest --shard: four processes share one key', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  let emu: RunningEmulator;
  let env: Record<string, string>;

  beforeAll(async () => {
    emu = await startEmulator({ rpm: RPM, burst: BURST, processingDelayMs: 0 });
    env = { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  const sample = (runs: CliProcess[] = []): Sample => {
    const s = emu.stats();
    const byStatus = Object.entries(s.requests_by_status);
    return {
      at: performance.now(),
      answered: runs.filter((r) => r.stderr().includes('http POST')).length,
      served: byStatus.reduce((a, [k, v]) => (k === '429' ? a : a + v), 0),
      rateLimited: s.rate_limited,
    };
  };
  const stored = (tag: string) =>
    storedOnce(emu.documents().filter((d) => d.document.startsWith(`User: ${tag} `)));

  const startShard = (input: string, index: number): CliProcess =>
    spawnCli(
      [
        '--json',
        '-v',
        'ingest',
        input,
        '--shard',
        `${index}/${SHARDS}`,
        '--batch-size',
        String(BATCH),
      ],
      {
        env,
        cwd: dir,
        timeoutMs: 120_000,
      },
    );

  it('stores every record once, with 429s ≤ 1% after warm-up and ≥ 0.9 of the limit used', async () => {
    writeChatFile(join(dir, 'all.jsonl'), N, 'all');
    const samples: Sample[] = [sample()];
    const runs = Array.from({ length: SHARDS }, (_, i) => startShard('all.jsonl', i));
    const timer = setInterval(() => samples.push(sample(runs)), 100);
    const exits = await Promise.all(
      runs.map((r) => r.done.then((run) => ({ run, at: performance.now() }))),
    );
    clearInterval(timer);
    samples.push(sample(runs));

    for (const { run } of exits) expect(run.code, run.stderr).toBe(0);
    expect(stored('all')).toEqual({ distinct: N, duplicates: 0 });
    const summaries = exits.map(({ run }) => JSON.parse(run.stdout).result);
    // Every record read by every shard, each sent by exactly one of them.
    for (const s of summaries) expect(s.records_read + s.other_shards).toBe(N);
    expect(summaries.reduce((a, s) => a + s.accepted, 0)).toBe(N);

    // Judged from the warm-up after the last shard's first answer (processes start unevenly on
    // a busy machine) to the first shard that finished: all four were sending.
    const start = samples.find((s) => s.served > 0)!.at;
    const allAnswered = samples.find((s) => s.answered === SHARDS)!.at;
    const from = samples.find((s) => s.at >= allAnswered + WARM_UP_MS)!;
    const firstExit = Math.min(...exits.map((e) => e.at));
    const to = [...samples].reverse().find((s) => s.at <= firstExit)!;
    // Served over the window ÷ the most the server could serve in it: its rate × the window,
    // plus its whole bucket in case that was full when the window began.
    const windowMs = to.at - from.at;
    const perS = ((to.served - from.served) * 1000) / windowMs;
    const ofLimit = (to.served - from.served) / ((RPM / 60) * (windowMs / 1000) + BURST);
    const last = samples[samples.length - 1]!;
    const afterWarmUp429 = last.rateLimited - from.rateLimited;
    const afterWarmUpRequests = last.served + last.rateLimited - from.served - from.rateLimited;
    const overall = (last.served * 1000) / (Math.max(...exits.map((e) => e.at)) - start);
    console.log(
      `shards | ${SHARDS} × ingest --shard i/${SHARDS}, ${N} records in batches of ${BATCH}, ` +
        `key ${RPM} rpm burst ${BURST}: ${(ofLimit * 100).toFixed(1)}% of rate × time + burst while all ran ` +
        `(${perS.toFixed(2)} req/s over ${(windowMs / 1000).toFixed(1)} s), ` +
        `${((overall / (RPM / 60)) * 100).toFixed(1)}% from first answer to last exit; ` +
        `429s ${last.rateLimited} in all, ${afterWarmUp429} of ${afterWarmUpRequests} after warm-up; ` +
        `last shard's first answer ${((allAnswered - start) / 1000).toFixed(1)} s after the first`,
    );
    expect(windowMs).toBeGreaterThan(4000);
    expect(ofLimit).toBeGreaterThanOrEqual(0.9);
    expect(afterWarmUp429).toBeLessThanOrEqual(afterWarmUpRequests * 0.01);

    // Each shard left its summary; the report adds them up.
    const report = await runCli(['--json', 'ingest', 'all.jsonl', '--shard-report'], {
      env,
      cwd: dir,
    });
    expect(report.code, report.stderr).toBe(0);
    const merged = JSON.parse(report.stdout).result;
    expect(merged).toMatchObject({
      status: 'completed',
      shards: SHARDS,
      completed: SHARDS,
      accepted: N,
    });
  }, 120_000);

  it('two shards killed with SIGKILL and run again: still every record exactly once', async () => {
    // 800 records in batches of 10: 80 requests, about 4 s at the key's limit.
    const M = 800;
    writeChatFile(join(dir, 'kill.jsonl'), M, 'kill');
    const base = emu.stats().documents_stored;
    const runs = Array.from({ length: SHARDS }, (_, i) => startShard('kill.jsonl', i));
    // Kill shards 1 and 3 once both have checkpointed some progress and about a third of the
    // records are stored.
    const settled = (i: number) => {
      try {
        const path = join(dir, `kill.jsonl.shard-${i}-of-${SHARDS}.synap-state.json`);
        return (JSON.parse(readFileSync(path, 'utf8')) as { settled_records: number })
          .settled_records;
      } catch {
        return 0;
      }
    };
    for (
      let i = 0;
      i < 800 &&
      (settled(1) === 0 || settled(3) === 0 || emu.stats().documents_stored - base < M / 3);
      i++
    ) {
      await new Promise((res) => setTimeout(res, 25));
    }
    runs[1]!.child.kill('SIGKILL');
    runs[3]!.child.kill('SIGKILL');
    const first = await Promise.all(runs.map((r) => r.done));
    expect(first[1]!.signal).toBe('SIGKILL');
    expect(first[3]!.signal).toBe('SIGKILL');
    expect(first[0]!.code, first[0]!.stderr).toBe(0);
    expect(first[2]!.code, first[2]!.stderr).toBe(0);
    // The killed shards left their state and lock; the others their done files.
    const left = readdirSync(dir).filter((f) => f.startsWith('kill.jsonl.'));
    expect(left).toEqual(
      expect.arrayContaining([
        'kill.jsonl.shard-1-of-4.synap-state.json',
        'kill.jsonl.shard-1-of-4.synap-lock',
        'kill.jsonl.shard-0-of-4.synap-done.json',
      ]),
    );
    const midway = await runCli(['--json', 'ingest', 'kill.jsonl', '--shard-report'], {
      env,
      cwd: dir,
    });
    expect(midway.code).toBe(5);
    const rows = JSON.parse(midway.stdout).result.rows as { shard: string; status: string }[];
    expect(rows.map((r) => r.status)).toEqual(['completed', 'stopped', 'completed', 'stopped']);

    const again = await Promise.all([1, 3].map((i) => startShard('kill.jsonl', i).done));
    for (const run of again) expect(run.code, run.stderr).toBe(0);
    // The resumed shards did not send again what they had settled before the kill.
    for (const run of again) expect(JSON.parse(run.stdout).result.resumed_past).toBeGreaterThan(0);
    expect(stored('kill')).toEqual({ distinct: M, duplicates: 0 });
    expect(existsSync(join(dir, 'kill.jsonl.shard-1-of-4.synap-lock'))).toBe(false);
    const report = await runCli(
      ['--json', 'ingest', 'kill.jsonl', '--shards', '4', '--shard-report'],
      {
        env,
        cwd: dir,
      },
    );
    expect(report.code, report.stderr).toBe(0);
    const total = JSON.parse(report.stdout).result;
    expect(total).toMatchObject({ status: 'completed', completed: SHARDS, failed: 0 });
    // Records stored just before a kill come back as unchanged when their shard resumes (the
    // ledger recorded the answer before the checkpoint could), or as skipped when the kill
    // came between the answer and the ledger.
    expect(total.accepted).toBeLessThanOrEqual(M);
    expect(total.accepted + total.skipped + total.unchanged).toBeGreaterThanOrEqual(M);
  }, 120_000);
});
