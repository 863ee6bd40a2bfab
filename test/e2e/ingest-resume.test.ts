import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli, spawnCli } from '../helpers/cli.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';
import { useEmulator } from '../helpers/emulator.js';
import { docsOf, FAULTY } from '../helpers/fixtures/ingest-resume.js';

describe('ingest at a tight rate limit with faults, resume, and clean stops', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  const dir = sandbox.dir;

  useEmulator(sandbox, FAULTY, (e, en) => {
    emu = e;
    env = en;
  });

  it('Ctrl-C mid-way exits 130 with state saved; the re-run completes with each document once', async () => {
    writeChatFile(join(dir, 'int.jsonl'), 3_000, 'int');
    const run = spawnCli(['ingest', 'int.jsonl', '--batch-size', '20'], { env, cwd: dir });
    // Wait for real progress, then interrupt.
    for (let i = 0; i < 200 && docsOf(emu, 'int').length < 600; i++) {
      await new Promise((res) => setTimeout(res, 50));
    }
    run.child.kill('SIGINT');
    const first = await run.done;
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain('run the same command again to resume');
    const statePath = join(dir, 'int.jsonl.synap-state.json');
    expect(existsSync(statePath)).toBe(true);
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    expect(state.settled_records).toBeGreaterThan(0);
    expect(state.settled_records).toBeLessThan(3_000);
    // Everything under the watermark is really stored.
    expect(docsOf(emu, 'int').length).toBeGreaterThanOrEqual(state.settled_records);

    const changed = await runCli(['ingest', 'int.jsonl', '--mode', 'fast'], { env, cwd: dir });
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain('--mode (none) → fast');

    const second = await runCli(['--json', 'ingest', 'int.jsonl'], { env, cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    const s = JSON.parse(second.stdout).result;
    expect(s.resumed_past).toBe(state.settled_records);
    expect(existsSync(statePath)).toBe(false);
    expect(storedOnce(docsOf(emu, 'int'))).toEqual({ distinct: 3_000, duplicates: 0 });
  }, 120_000);
});
