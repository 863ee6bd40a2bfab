import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli } from '../helpers/cli.js';
import { writeChatFile } from '../helpers/ingest.js';

const SAMPLES = resolve(import.meta.dirname, '../../samples');

describe('synap ingest against the emulator', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  const dir = sandbox.dir;
  const run = (args: string[], opts: { input?: string | Buffer } = {}) =>
    runCli(args, { env, cwd: dir, timeoutMs: 60_000, ...opts });

  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
    env = { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
    cpSync(SAMPLES, dir, { recursive: true });
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

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
