import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli, type CliRun } from '../helpers/cli.js';
import {
  expectKeyOnlyInConfig,
  KEY,
  listAll,
  recordingCli,
  seedNotes,
} from '../helpers/fixtures/memories.js';
import { ptyUnavailableReason, runInPty } from '../helpers/tty.js';

let emu: RunningEmulator;
let box: ReturnType<typeof makeSandbox>;
let env: Record<string, string>;
const runs: CliRun[] = [];

const cli = recordingCli(runCli, () => env, runs);

beforeAll(async () => {
  emu = await startEmulator({ port: 0, apiKey: KEY });
  box = makeSandbox();
  env = { ...box.env, SYNAP_BASE_URL: emu.url };
  await seedNotes(emu);
  const login = await cli(['auth', 'login', '--api-key-stdin'], {}, `${KEY}\n`);
  expect(login.code).toBe(0);
});

afterAll(async () => {
  await emu.close();
  box.cleanup();
});

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
