import { describe, expect, it } from 'vitest';
import { makeSandbox, runCli, type CliRun } from '../helpers/cli.js';
import {
  expectKeyOnlyInConfig,
  listAll,
  recordingCli,
  useMemoriesEmulator,
} from '../helpers/fixtures/memories.js';
import { ptyUnavailableReason, runInPty } from '../helpers/tty.js';

let box: ReturnType<typeof makeSandbox>;
let env: Record<string, string>;
const runs: CliRun[] = [];

const cli = recordingCli(runCli, () => env, runs);

useMemoriesEmulator(cli, (w) => ({ box, env } = w));

describe('synap memories', () => {
  it.skipIf(ptyUnavailableReason() !== undefined)(
    'delete asks on a terminal: "n" keeps the memory ("Nothing deleted.", exit 0), "y" deletes it',
    async () => {
      const victim = (await listAll(cli))[0]!.memory_id;
      const no = await runInPty(['memories', 'delete', victim], {
        env,
        steps: [{ waitFor: /cannot be undone/, send: 'n\r' }],
      });
      runs.push({ code: no.code, signal: null, stdout: no.raw, stderr: '' });
      expect(no.code).toBe(0);
      expect(no.screen).toContain('Nothing deleted.');
      expect(no.screen).not.toMatch(/error/i);
      expect((await listAll(cli)).some((m) => m.memory_id === victim)).toBe(true);
      const yes = await runInPty(['memories', 'delete', victim], {
        env,
        steps: [{ waitFor: /cannot be undone/, send: 'y\r' }],
      });
      runs.push({ code: yes.code, signal: null, stdout: yes.raw, stderr: '' });
      expect(yes.code).toBe(0);
      expect(yes.screen).toContain(`deleted ${victim}`);
      expect((await listAll(cli)).some((m) => m.memory_id === victim)).toBe(false);
    },
  );

  it('the canary key never appears in any output, nor in any file but the config file', () => {
    expect(runs.length).toBeGreaterThan(2);
    expectKeyOnlyInConfig(runs, box);
  });
});
