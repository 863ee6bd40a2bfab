import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { emulatorSandbox } from '../helpers/emulator.js';
import { writeChatFile } from '../helpers/ingest.js';
import { ptyUnavailableReason, runInPty } from '../helpers/tty.js';

/**
 * A resumed run, as a person sees it in a terminal: it says where it resumes (the spinner's
 * first text is gone at the first progress update, so it is a line of its own), and the
 * summary keeps this run apart from the earlier runs and the whole input.
 */

const noPty = ptyUnavailableReason();

describe.skipIf(noPty)('a resumed ingest in a terminal', () => {
  const box = emulatorSandbox({ processingDelayMs: 0, tier: 'unlimited', latencyMs: 120 });

  it('says "resuming after record N" and shows this run, earlier runs and the whole input apart', async () => {
    const file = writeChatFile(join(box.dir, 'chats.jsonl'), 300, 'rs');
    const args = ['ingest', file, '--batch-size', '5', '--concurrency', '1'];
    // 60 batches of 120 ms: --max-duration stops the first run part-way, with room for a slow
    // start on a loaded machine.
    const first = await runCli([...args, '--max-duration', '4s'], { env: box.env });
    expect(first.code, first.stderr).toBe(5);
    const settled = box.emu.documents().length;
    expect(settled).toBeGreaterThan(0);
    expect(settled).toBeLessThan(300);

    // The resume needs no slow answers: it is the same command, sending the rest.
    box.emu.setFaults({ latencyMs: 0 });
    const r = await runInPty(args, { env: box.env, steps: [], columns: 120, timeoutMs: 60_000 });
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toMatch(/resuming .*chats\.jsonl after record [\d,]+/);
    const row = (name: string) =>
      r.screen.split('\n').find((l) => new RegExp(`^\\W*${name}\\b`).test(l.trim())) ?? '';
    const n = (s: string) => Number(s.replace(/,/g, ''));
    const thisRun = /(\d[\d,]*) accepted/.exec(row('this run'))?.[1];
    const earlier = /(\d[\d,]*) accepted/.exec(row('earlier runs'))?.[1];
    const whole = /(\d[\d,]*) accepted/.exec(row('whole input'))?.[1];
    expect([thisRun, earlier, whole], r.screen).not.toContain(undefined);
    expect(n(thisRun!) + n(earlier!)).toBe(n(whole!));
    expect(n(whole!)).toBe(300);
    expect(n(earlier!)).toBeGreaterThan(0);
  }, 90_000);
});
