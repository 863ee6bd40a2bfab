import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { writeChatFile } from '../helpers/ingest.js';
import { ptyUnavailableReason, runInPty, startCliInPty } from '../helpers/tty.js';

/**
 * Logs as cron keeps them (stderr to a pipe): timestamped lines, repeated retries counted,
 * `key: value` summaries; the progress line in a terminal (percentage and ETA from settled
 * records); and the messages of unreachable servers, refused keys and the login prompt.
 */

const noPty = ptyUnavailableReason();
if (noPty) console.log(`skipping terminal progress and prompt tests: ${noPty}`);

describe('logs, progress and messages', () => {
  const box = makeSandbox();
  let emu: RunningEmulator;
  const KEY = 'synap_LOGScanary000000000000000000000000000000aa11';

  beforeAll(async () => {
    emu = await startEmulator({ tier: 'unlimited', processingDelayMs: 0, apiKey: KEY });
  });
  afterAll(async () => {
    await emu.close();
    box.cleanup();
  });

  describe.skipIf(noPty)('in a terminal', () => {
    it('the login prompt asks again after an empty answer and shows no ✔ before the key is checked', async () => {
      const r = await runInPty(['--profile', 'prompt', 'auth', 'login'], {
        env: { ...box.env, SYNAP_BASE_URL: emu.url },
        steps: [
          { waitFor: /API key for profile "prompt"/, send: '\r' },
          { waitFor: /Nothing was entered/, send: `${KEY}\r` },
        ],
      });
      expect(r.code, r.screen).toBe(0);
      expect(r.screen).not.toContain('✔');
      expect(r.screen).toContain('Logged in: key verified');
      expect(r.screen).not.toContain(KEY);
    });

    it('a refused key at the prompt: exit 4, no ✔, no "run synap auth login"', async () => {
      const r = await runInPty(['--profile', 'prompt2', 'auth', 'login'], {
        env: { ...box.env, SYNAP_BASE_URL: emu.url },
        steps: [
          { waitFor: /API key for profile "prompt2"/, send: 'synap_WRONGwrongwrongwrongwrong00\r' },
        ],
      });
      expect(r.code, r.screen).toBe(4);
      expect(r.screen).not.toContain('✔');
      expect(r.screen).not.toContain('synap auth login');
    });

    it('ingest progress: percentage and ETA follow settled records at the server pace', async () => {
      // 120 requests a minute of 50 records: about 100 records a second, 600 records in ~6 s,
      // while the reader runs 200 records (4 batches in flight) ahead of what is settled.
      const paced = await startEmulator({ rpm: 120, burst: 1, processingDelayMs: 0 });
      try {
        writeChatFile(join(box.dir, 'eta.jsonl'), 600, 'eta');
        const t = startCliInPty(
          ['ingest', 'eta.jsonl', '--batch-size', '50', '--concurrency', '4'],
          {
            env: { ...box.env, SYNAP_API_KEY: paced.apiKey, SYNAP_BASE_URL: paced.url },
            cwd: box.dir,
          },
        );
        const ended = t.done();
        await t.waitFor(/\((2\d|3\d|4\d)%\), \d+\/s, ETA \d+s/, 40_000);
        const seenAt = Date.now();
        const m = /\((\d+)%\), (\d+)\/s, ETA (\d+)s(?![\s\S]*ETA)/.exec(t.screen())!;
        const eta = Number(m[3]) * 1000;
        const r = await ended;
        const actual = Date.now() - seenAt;
        expect(r.code, r.screen).toBe(0);
        console.log(`at ${m[1]}%: ETA ${eta / 1000}s, took ${(actual / 1000).toFixed(1)}s more`);
        // Reads ahead would promise about a quarter of the real time left.
        expect(eta).toBeGreaterThan(actual * 0.6);
        expect(eta).toBeLessThan(actual * 1.6 + 1500);
      } finally {
        await paced.close();
      }
    }, 90_000);
  });
});
