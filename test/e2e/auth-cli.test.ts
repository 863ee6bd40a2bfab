import { describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { KEY, storedProfilesOf, useAuthEmulator } from '../helpers/fixtures/auth.js';
import { makeSandbox, runCli } from '../helpers/cli.js';
import { ptyUnavailableReason, runInPty } from '../helpers/tty.js';

let emu: RunningEmulator;
let box: ReturnType<typeof makeSandbox>;
let env: Record<string, string>;

useAuthEmulator((w) => ({ emu, box, env } = w));

const storedProfiles = () => storedProfilesOf(box);

const noPty = ptyUnavailableReason();

describe.skipIf(noPty !== undefined)(
  `interactive auth login in a pty${noPty ? ` (skipped: ${noPty})` : ''}`,
  () => {
    it('masks the key while typing, stores it, and status shows it masked', async () => {
      const r = await runInPty(['--profile', 'tty', 'auth', 'login'], {
        env,
        steps: [{ waitFor: /API key for profile "tty"/, send: `${KEY}\r` }],
      });
      expect(r.code).toBe(0);
      expect(r.screen).not.toContain(KEY);
      expect(r.screen).not.toContain('AUTHcanary');
      expect(r.screen).toMatch(/\*{20,}/); // one mask character per key press
      expect(r.screen).toContain('synap_…1a2b');
      expect(storedProfiles().tty?.api_key).toBe(KEY);

      const status = await runCli(['--profile', 'tty', 'auth', 'status'], { env });
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('synap_…1a2b');
      expect(status.stdout).not.toContain(KEY);
    });

    it('a host that does not answer: the typed key is kept and another base URL is asked for', async () => {
      const r = await runInPty(
        ['--profile', 'moved', '--base-url', 'http://127.0.0.1:1', 'auth', 'login'],
        {
          env,
          timeoutMs: 40_000,
          steps: [
            { waitFor: /API key for profile "moved"/, send: `${KEY}\r` },
            { waitFor: /Base URL to try instead/, send: `${emu.url}\r` },
          ],
        },
      );
      expect(r.code, r.screen).toBe(0);
      expect(r.screen).toContain('could not reach http://127.0.0.1:1');
      expect(r.screen).not.toContain(KEY);
      const stored = storedProfiles().moved as { api_key?: string; base_url?: string };
      expect(stored.api_key).toBe(KEY);
      expect(stored.base_url).toBe(emu.url);
    }, 60_000);

    it('--no-color and NO_COLOR draw the prompt without colour or bold; a terminal alone colours it', async () => {
      // eslint-disable-next-line no-control-regex
      const SGR = /\u001b\[[0-9;]*m/;
      const login = (args: string[], extra: Record<string, string> = {}) =>
        runInPty([...args, '--profile', 'colour', 'auth', 'login'], {
          env: { ...env, ...extra },
          steps: [{ waitFor: /API key for profile "colour"/, send: `${KEY}\r` }],
        });
      const coloured = await login([]);
      expect(coloured.code).toBe(0);
      expect(coloured.raw).toMatch(SGR);
      for (const plain of [await login(['--no-color']), await login([], { NO_COLOR: '1' })]) {
        expect(plain.code).toBe(0);
        expect(plain.raw).not.toMatch(SGR);
        expect(plain.screen).toContain('› Synap API key for profile "colour":');
      }
    });
  },
);
