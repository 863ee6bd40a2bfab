import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runShell } from '../helpers/cli.js';
import { parseLines, seedMemories } from '../helpers/export.js';

describe('synap memories list --all / --output', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  const lists = () => emu.stats().requests_by_endpoint.list ?? 0;

  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
    await seedMemories(emu, 250);
    env = { ...sandbox.env, SYNAP_BASE_URL: emu.url, SYNAP_API_KEY: emu.apiKey };
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  it('--all --output csv | head -3: the reader closing the pipe is not reported, exit 0', async () => {
    const r = await runShell(
      'synap memories list --all --output csv --page-size 10 | head -3 > /dev/null',
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning|skipped/);
    expect(r.stderr).toMatch(/stopped after \d+ memories: the output was closed/);
  });

  it('--all in a pipe that closes early stops asking for pages', async () => {
    const before = lists();
    const r = await runShell('synap memories list --all --output jsonl --page-size 5 | head -1', {
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(parseLines(r.stdout)).toHaveLength(1);
    expect(lists() - before).toBeLessThan(50);
  });
});
