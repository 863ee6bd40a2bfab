import { describe, expect, it } from 'vitest';
import { makeSandbox, spawnCli } from '../helpers/cli.js';

/**
 * `--json` prints exactly one envelope for every command; test/cmd/json-envelope.test.ts has a
 * row a command. This is the one that needs a process: the emulator runs until a signal.
 */

describe('--json: one envelope for every command', () => {
  it('emulator: the banner is the one envelope; stopping it prints nothing more on stdout', async () => {
    const sandbox = makeSandbox();
    try {
      const emulator = spawnCli(['--json', 'emulator', '--port', '0', '--db', ':memory:'], {
        env: sandbox.env,
      });
      while (!emulator.stdout().includes('\n')) await new Promise((r) => setTimeout(r, 20));
      emulator.child.kill('SIGINT');
      expect((await emulator.done).code).toBe(0);
      const out = emulator.stdout();
      const lines = out.trim().split('\n');
      expect(lines).toHaveLength(1);
      const envelope = JSON.parse(lines[0]!) as {
        status: string;
        result: Record<string, unknown>;
      };
      expect(envelope.status).toBe('ok');
      expect(envelope.result.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(envelope.result.api_key).toMatch(/^synap_/);
    } finally {
      sandbox.cleanup();
    }
  });
});
