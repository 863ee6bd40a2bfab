import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli } from '../helpers/cli.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';

// A ~5 s version of bench scenario 1 (rate-limited backfill), asserting correctness only:
// every document stored exactly once, no request inside a Retry-After pause beyond those already
// in flight when a 429 was sent, exit 0. Speed is the benchmark's business (npm run bench).
// 1,000 records in batches of 10 = 100 requests: 50 from the burst, then 50 at 10/s.
const RECORDS = 1_000;
const BATCH = 10;
const CONCURRENCY = 8;

describe('bench smoke: scenario 1 at 600 rpm, burst 50', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;

  beforeAll(async () => {
    emu = await startEmulator({ tier: 'pro', rpm: 600, burst: 50, processingDelayMs: 0 });
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  it('stores every document exactly once, sends nothing during a pause, exits 0', async () => {
    const file = writeChatFile(join(sandbox.dir, 'backfill.jsonl'), RECORDS, 'smoke');
    const r = await runCli(
      [
        '--json',
        'ingest',
        file,
        '--batch-size',
        String(BATCH),
        '--concurrency',
        String(CONCURRENCY),
      ],
      {
        env: { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url },
        cwd: sandbox.dir,
        timeoutMs: 60_000,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result).toMatchObject({
      records_read: RECORDS,
      accepted: RECORDS,
      failed: 0,
    });

    const docs = emu.documents().filter((d) => d.document.startsWith('User: smoke message '));
    expect(storedOnce(docs)).toEqual({ distinct: RECORDS, duplicates: 0 });
    expect(new Set(docs.map((d) => d.document_id)).size).toBe(RECORDS);
    for (const d of docs) expect(d.times_received).toBe(1);

    // The sender pauses every worker at a 429; only requests already in flight may arrive early.
    const stats = emu.stats();
    expect(stats.early_requests).toBeLessThanOrEqual(stats.rate_limited * CONCURRENCY);
  }, 90_000);
});
