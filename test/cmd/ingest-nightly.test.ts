import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runOnClock } from '../helpers/in-process.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';

/** A nightly job on a file that grows: each night's run picks up where the last one ended. */
describe('nightly runs of a growing file', () => {
  const box = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  // The runs and the emulator's rate limit share one clock, so the first night's --max-duration
  // ends it part-way however long the machine takes to start it.
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    // A key of 60 requests a minute: the first night's second holds a few of its 60 batches.
    emu = await startEmulator({ processingDelayMs: 0, rpm: 60, burst: 5, clock });
    env = { ...box.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
  });
  afterAll(async () => {
    await emu.close();
    box.cleanup();
  });

  it('stopped by --max-duration, grown by the next night: it resumes (growth is not change)', async () => {
    const input = writeChatFile(join(box.dir, 'chats.jsonl'), 300, 'night');
    const args = ['--json', 'ingest', 'chats.jsonl', '--batch-size', '5', '--concurrency', '1'];
    // The clock stands still until the first batch reaches the emulator, so the pre-flight's
    // real work does not spend the night's second.
    const firstBatch = (async () => {
      while ((emu.stats().requests_by_endpoint.batch ?? 0) === 0) {
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const first = await runOnClock([...args, '--max-duration', '1s'], {
      env,
      cwd: box.dir,
      clock,
      holdUntil: firstBatch,
    });
    expect(first.code, first.stderr).toBe(5);
    const night1 = JSON.parse(first.stdout).result;
    expect(night1.state_files).toHaveLength(1);

    // The day's new chats are appended.
    const more = writeChatFile(join(box.dir, 'more.jsonl'), 20, 'day2');
    appendFileSync(input, (await import('node:fs')).readFileSync(more));

    const second = await runOnClock(args, { env, cwd: box.dir, clock });
    expect(second.code, second.stderr).toBe(0);
    const night2 = JSON.parse(second.stdout).result;
    expect(night2.resumed_past).toBeGreaterThan(0);
    expect(night2.resumed_past + night2.records_read).toBe(320);
    const docs = emu.documents();
    expect(storedOnce(docs)).toEqual({ distinct: 320, duplicates: 0 });

    // Night three: nothing new, nothing sent.
    const third = await runOnClock(args, { env, cwd: box.dir, clock });
    expect(JSON.parse(third.stdout).result).toMatchObject({ sent: 0, unchanged: 320 });
  }, 90_000);
});
