import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { api } from '../helpers/emulator.js';
import { writeChatFile } from '../helpers/ingest.js';

/** `--rate 50%` against the emulator's X-RateLimit-* headers, with another client on the key. */
describe('synap ingest --rate as a share of the server limit', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  let emu: RunningEmulator;
  let env: Record<string, string>;

  beforeAll(async () => {
    // 1200/min = 20 a second, bucket of 20: half is 10 a second and a bucket of 10.
    emu = await startEmulator({ processingDelayMs: 0, rpm: 1200, burst: 20 });
    env = { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  it('--rate 50% stays within half the limit while another client uses the other half', async () => {
    writeChatFile(join(dir, 'share.jsonl'), 500, 'share');
    // The other client: 600/min, one request every 100 ms, honouring Retry-After.
    let stop = false;
    const other = { sent: 0, refused: 0 };
    const otherLoop = (async () => {
      while (!stop) {
        const res = await api(emu, 'GET', '/api/v1/auth/whoami');
        other.sent += 1;
        if (res.status === 429) other.refused += 1;
        const wait = res.status === 429 ? Number(res.headers['retry-after']) * 1000 : 100;
        // Unref'd: the harness counts the timers a run leaves behind, and this pause is not the run's.
        await new Promise((r) => setTimeout(r, wait).unref());
      }
    })();
    const started = Date.now();
    const r = await runInProcess(
      ['--json', 'ingest', 'share.jsonl', '--batch-size', '10', '--rate', '50%'],
      { env, cwd: dir, timeoutMs: 60_000 },
    );
    const elapsed = Date.now() - started;
    stop = true;
    await otherLoop;
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout).result;
    expect(s.accepted).toBe(500);
    // 50 requests at 10 a second, at most the share of the bucket (10) at once: ≥ 3.9 s.
    expect(elapsed).toBeGreaterThanOrEqual(3_900);
    expect(s.rate_limited / s.requests).toBeLessThanOrEqual(0.01);
    expect(other.refused / other.sent).toBeLessThanOrEqual(0.05);
  });

  it('bad shares and rates are usage errors (exit 2) naming --rate', async () => {
    writeChatFile(join(dir, 'bad.jsonl'), 3, 'bad');
    for (const rate of ['0%', '150%', 'fast']) {
      const r = await runInProcess(['ingest', 'bad.jsonl', '--rate', rate], { env, cwd: dir });
      expect(r.code, rate).toBe(2);
      expect(r.stderr).toContain('--rate');
    }
    expect(emu.documents().filter((d) => d.document.includes('bad message'))).toHaveLength(0);
  });
});
