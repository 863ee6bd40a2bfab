import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox } from '../helpers/cli.js';
import { ptyUnavailableReason, runInPty } from '../helpers/tty.js';

/**
 * Help in a terminal: prose wraps to its width. The rest of help (in a pipe: 80 columns, the
 * global options, `synap help <command>`, the descriptions' voice) is in test/cmd/help-cli.test.ts.
 */

let box: ReturnType<typeof makeSandbox>;
beforeAll(() => {
  box = makeSandbox();
});
afterAll(() => box.cleanup());

describe('help', () => {
  it.skipIf(ptyUnavailableReason() !== undefined)(
    'in a wide terminal, prose uses the width; in a narrow one it still fits',
    async () => {
      const narrow = await runInPty(['ingest', '--help'], { env: box.env, steps: [], columns: 60 });
      expect(narrow.code).toBe(0);
      const prose = narrow.screen.split('\n').filter((l) => /^[A-Z]/.test(l));
      for (const l of prose) expect([...l].length).toBeLessThanOrEqual(60);
    },
  );
});
