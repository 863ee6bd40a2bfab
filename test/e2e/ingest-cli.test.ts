import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { writeChatFile } from '../helpers/ingest.js';
import { samplesSandbox } from '../helpers/fixtures/ingest-cli.js';

describe('synap ingest against the emulator', () => {
  const { dir, run } = samplesSandbox(runCli);

  it('a second run on a locked input exits 5; --wait-lock waits for it', async () => {
    const input = writeChatFile(join(dir, 'locked.jsonl'), 20, 'locked');
    const lock = `${input}.synap-lock`;
    // A live process on this host holds the lock (this test runner's pid).
    writeFileSync(
      lock,
      JSON.stringify({
        pid: process.pid,
        host: hostname(),
        profile: 'cron',
        started_at: new Date().toISOString(),
      }),
    );
    const r = await run(['ingest', 'locked.jsonl']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('another synap ingest');
    expect(r.stderr).toContain('--wait-lock');

    const waiting = run(['ingest', 'locked.jsonl', '--wait-lock']);
    await new Promise((res) => setTimeout(res, 1500));
    rmSync(lock, { force: true });
    const w = await waiting;
    expect(w.code, w.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);

    // A stale lock (its process is gone) is taken over.
    writeFileSync(
      lock,
      JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), profile: 'x', started_at: '' }),
    );
    const stale = await run(['ingest', 'locked.jsonl']);
    expect(stale.code, stale.stderr).toBe(0);
  });
});
