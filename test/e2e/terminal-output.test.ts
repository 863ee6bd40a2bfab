import { describe, expect, it } from 'vitest';
import { BOX, ESC, LONG, SGR, useTableEmulator } from '../helpers/fixtures/terminal-output.js';
import { makeSandbox, runCli } from '../helpers/cli.js';
import { ptyUnavailableReason, runInPty } from '../helpers/tty.js';

/**
 * What tables and listings look like where they go: in a real pipe, plain tab-separated rows
 * and `key: value` lines with no escape code; in a real terminal, a box sized to its width,
 * styled unless NO_COLOR, --no-color or TERM=dumb say otherwise; FORCE_COLOR forces styling.
 */

const noPty = ptyUnavailableReason();
if (noPty) console.log(`skipping terminal output tests: ${noPty}`);

/** Longest line of what the terminal showed. */
function widest(screen: string): number {
  return Math.max(...screen.split('\n').map((l) => [...l.replace(/\r$/, '')].length));
}

describe('tables and colour in pipes and terminals', () => {
  const box = makeSandbox();
  let env: Record<string, string>;
  let memoryId: string;
  let ingestionId: string;

  useTableEmulator(runCli, box, (w) => ({ env, memoryId, ingestionId } = w));

  describe.skipIf(noPty)('in a terminal', () => {
    it('memories list: a box that fits 80 columns, content cut with …, ids whole, no row rules', async () => {
      const r = await runInPty(['memories', 'list'], { env, steps: [], columns: 80 });
      expect(r.code, r.screen).toBe(0);
      const table = r.screen.split('\n').filter((l) => BOX.test(l));
      expect(table.length).toBeGreaterThan(3);
      expect(widest(table.join('\n'))).toBeLessThanOrEqual(80);
      expect(r.screen).toContain(memoryId);
      expect(r.screen).toContain('…');
      expect(r.screen).not.toContain('├'); // no rule between rows
      expect(r.raw).toMatch(SGR); // bold header
    });

    it.each([60, 50])(
      'memories list at %s columns: ids whole (the content column gives way), within the width',
      async (columns) => {
        const r = await runInPty(['memories', 'list'], { env, steps: [], columns });
        expect(r.code, r.screen).toBe(0);
        const table = r.screen.split('\n').filter((l) => BOX.test(l));
        expect(widest(table.join('\n'))).toBeLessThanOrEqual(columns);
        expect(r.screen).toContain(memoryId);
        expect(r.screen).toMatch(/content/);
        expect(r.screen).toContain('…');
      },
    );

    it('memories list on a wide terminal shows the whole content', async () => {
      const r = await runInPty(['memories', 'list'], { env, steps: [], columns: 300 });
      expect(r.code, r.screen).toBe(0);
      expect(r.screen).toContain(LONG);
      expect(r.screen).not.toContain('…');
    });

    it('memories status and get fit a narrow terminal', async () => {
      const s = await runInPty(['memories', 'status', ingestionId], {
        env,
        steps: [],
        columns: 80,
      });
      expect(s.code, s.screen).toBe(0);
      expect(widest(s.screen)).toBeLessThanOrEqual(80);
      // Headers and the list of memory ids give way; the ingestion id and status stay whole.
      expect(s.screen).toContain(ingestionId);
      expect(s.screen).toContain('completed');
      const g = await runInPty(['memories', 'get', memoryId], { env, steps: [], columns: 60 });
      expect(g.code, g.screen).toBe(0);
      expect(widest(g.screen)).toBeLessThanOrEqual(60);
      // The content wraps instead of being cut: every word is on screen.
      expect(g.screen.replace(/[│\s]+/g, ' ')).toContain('about the weather end');
    });

    it.each([
      ['NO_COLOR=1', { NO_COLOR: '1' }, []],
      ['TERM=dumb', { TERM: 'dumb' }, []],
      ['--no-color', {}, ['--no-color']],
    ])('%s: no colour codes on the terminal', async (_name, extra, flags) => {
      const r = await runInPty([...flags, 'config', 'list'], {
        env: { ...env, ...extra },
        steps: [],
      });
      expect(r.code, r.screen).toBe(0);
      expect(r.screen).toMatch(BOX);
      expect(r.raw).not.toMatch(SGR);
    });

    it('stdout piped from a terminal: rows to the pipe are plain, the footer stays on the terminal', async () => {
      const r = await runInPty(['memories', 'list'], { env, steps: [], stdoutToPipe: true });
      expect(r.code, r.screen).toBe(0);
      expect(r.stdout).not.toMatch(ESC);
      expect(r.stdout).not.toMatch(BOX);
      expect(r.stdout.trimEnd().split('\n')).toHaveLength(2);
      expect(r.screen).toContain('page 1 of 1, 2 memories total');
    });
  });
});
