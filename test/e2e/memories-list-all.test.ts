import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runShell, spawnCli } from '../helpers/cli.js';
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

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s during --all: stops between rows, exit %i, saying how many memories it wrote',
    async (signal, code) => {
      emu.setFaults({ latencyMs: 60 });
      try {
        const p = spawnCli(['memories', 'list', '--all', '--output', 'jsonl', '--page-size', '7'], {
          env,
        });
        // Two pages written: the run is busy.
        while (p.stdout().split('\n').length <= 14) await new Promise((r) => setTimeout(r, 20));
        p.child.kill(signal);
        const r = await p.done;
        expect(r.signal).toBeNull();
        expect(r.code, r.stderr).toBe(code);
        const rows = parseLines(r.stdout);
        expect(rows.length % 7).toBe(0);
        expect(r.stderr).toContain(
          `memories list --all interrupted after ${rows.length} memories (${rows.length / 7} pages)`,
        );
      } finally {
        emu.setFaults({ latencyMs: 0 });
      }
    },
  );

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
