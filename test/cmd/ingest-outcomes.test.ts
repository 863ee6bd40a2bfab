import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess, runOnClock } from '../helpers/in-process.js';
import { writeChatFile } from '../helpers/ingest.js';

const SAMPLES = resolve(import.meta.dirname, '../../samples');
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/** How a run ends: refused keys, credits running out, --fail-fast, --wait, --rate. */
describe('synap ingest outcomes and exit codes', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  let emu: RunningEmulator;
  let poor: RunningEmulator;
  let env: Record<string, string>;
  const run = (args: string[], e: Record<string, string> = env) =>
    runInProcess(args, { env: e, cwd: dir, timeoutMs: 60_000 });

  beforeAll(async () => {
    [emu, poor] = await Promise.all([
      startEmulator({ processingDelayMs: 150 }),
      startEmulator({ processingDelayMs: 0, credits: 50 }),
    ]);
    env = { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
    cpSync(SAMPLES, dir, { recursive: true });
  });
  afterAll(async () => {
    await Promise.all([emu.close(), poor.close()]);
    sandbox.cleanup();
  });

  it('a refused key exits 4 without a stack, sends nothing and never prints the key', async () => {
    const key = 'synap_canaryWRONGkey0000000000000000';
    const r = await run(['ingest', 'chat-transcripts.jsonl'], { ...env, SYNAP_API_KEY: key });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout + r.stderr).not.toContain(key);
    expect(emu.documents()).toHaveLength(0);
    expect(existsSync(join(dir, 'chat-transcripts.jsonl.failures.jsonl'))).toBe(false);
  });

  it('--wait polls until every accepted document is processed', async () => {
    const r = await run(['--json', 'ingest', 'chat-transcripts.jsonl', '--wait']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout).result;
    expect(s.accepted).toBe(30);
    expect(s.wait).toEqual({
      completed: 30,
      failed: 0,
      partial_success: 0,
      error: 0,
      cancelled: 0,
      unfinished: 0,
      timed_out: false,
    });
    expect(emu.stats().requests_by_endpoint.status ?? 0).toBeGreaterThanOrEqual(30);
  });

  it.each(['cancelled', 'error'] as const)(
    '--wait against the emulator (--end-status %s): a final status, counted and named, not waited on',
    async (end) => {
      const ending = await startEmulator({ processingDelayMs: 0, endStatus: end });
      try {
        writeChatFile(join(dir, `ends-${end}.jsonl`), 6, `ends-${end}`);
        const e = { ...env, SYNAP_API_KEY: ending.apiKey, SYNAP_BASE_URL: ending.url };
        const r = await run(['ingest', `ends-${end}.jsonl`, '--wait'], e);
        expect(r.code, r.stderr).toBe(3);
        expect(r.stderr).toContain(
          `ingestion: 0 completed, 0 partial, 0 failed, 6 ${end}, 0 unfinished`,
        );
        expect(r.stderr).toMatch(/processing not confirmed for 6 document\(s\)/);
        // Each ingestion was asked once: a final status is not polled again.
        expect(ending.stats().requests_by_endpoint.status).toBe(6);
        expect(ending.stats().faults.ended_otherwise).toBe(6);
      } finally {
        await ending.close();
      }
    },
  );

  it('--fail-fast stops at the first failed record (exit 5) with it in the failures file', async () => {
    const r = await run(['--json', 'ingest', 'with-bad-records.jsonl', '--fail-fast']);
    expect(r.code, r.stderr).toBe(5);
    const s = JSON.parse(r.stdout).result;
    expect(s).toMatchObject({ stop_reason: 'fail-fast', failed: 1 });
    const failures = readFileSync(join(dir, 'with-bad-records.jsonl.failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; record: { document_id: string } });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ line: 2, record: { document_id: 'bad-missing' } });
    expect(existsSync(join(dir, 'with-bad-records.jsonl.synap-state.json'))).toBe(true);
  });

  it('credits running out exits 6 with the state saved and nothing stored twice', async () => {
    writeChatFile(join(dir, 'credits.jsonl'), 200, 'credits');
    const e = { ...sandbox.env, SYNAP_API_KEY: poor.apiKey, SYNAP_BASE_URL: poor.url };
    // --yes: past the estimate (200 > 50 credits), which would stop it before sending.
    const r = await run(['ingest', 'credits.jsonl', '--batch-size', '20', '--yes'], e);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr.toLowerCase()).toContain('credit');
    expect(existsSync(join(dir, 'credits.jsonl.synap-state.json'))).toBe(true);
    const ids = poor.documents().map((d) => d.document_id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThanOrEqual(50);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('--rate caps the pace: 40 requests at 600/min take at least the unburst share', async () => {
    writeChatFile(join(dir, 'rate.jsonl'), 400, 'rate');
    // On a fake clock, which only the run's own waits move: the pace is the client's doing.
    const r = await runOnClock(
      ['--json', 'ingest', 'rate.jsonl', '--batch-size', '10', '--rate', '600'],
      { env, cwd: dir, timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    // 40 batches, and the pre-flight's whoami, credit balance and estimate.
    expect(JSON.parse(r.stdout).result.requests).toBe(43);
    // The unlimited emulator answers at once; only the cap (10/s after a first token) paces:
    // 39 requests at 10/s ≥ 3.9 s of the run's clock.
    expect(r.clockMs).toBeGreaterThanOrEqual(3_500);
  });
});
