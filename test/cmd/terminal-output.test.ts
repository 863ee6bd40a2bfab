import { describe, expect, it } from 'vitest';
import { BOX, ESC, LONG, SGR, useTableEmulator } from '../helpers/fixtures/terminal-output.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { stripAnsi } from '../helpers/tty.js';

/**
 * What tables and listings look like where they go: in a real pipe, plain tab-separated rows
 * and `key: value` lines with no escape code; in a real terminal, a box sized to its width,
 * styled unless NO_COLOR, --no-color or TERM=dumb say otherwise; FORCE_COLOR forces styling.
 */

describe('tables and colour in pipes and terminals', () => {
  const box = makeSandbox();
  let env: Record<string, string>;
  let memoryId: string;
  let ingestionId: string;

  useTableEmulator(runInProcess, box, (w) => ({ env, memoryId, ingestionId } = w));

  describe('in a pipe', () => {
    it.each([
      ['memories list', ['memories', 'list']],
      ['memories status', ['memories', 'status', '<ingestion>']],
      ['memories get', ['memories', 'get', '<memory>']],
      ['config list', ['config', 'list']],
      ['auth status', ['auth', 'status']],
    ])('%s | cat: no escape codes, no box drawing', async (_name, args) => {
      const argv = args.map((a) =>
        a === '<ingestion>' ? ingestionId : a === '<memory>' ? memoryId : a,
      );
      const r = await runInProcess(argv, { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(ESC);
      expect(r.stderr).not.toMatch(ESC);
      expect(r.stdout).not.toMatch(BOX);
      expect(r.stdout.trim()).not.toBe('');
    });

    it('tables are tab-separated rows without a header', async () => {
      const list = await runInProcess(['memories', 'list'], { env });
      const rows = list.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split('\t'));
      expect(rows).toHaveLength(2);
      for (const row of rows) expect(row).toHaveLength(4);
      expect(rows.map((r) => r[0])).toContain(memoryId);
      // Content is one line, whole up to 200 characters.
      expect(rows.some((r) => r[2] === LONG)).toBe(true);
      const config = await runInProcess(['config', 'list'], { env });
      expect(config.stdout).toBe('default\tbatch_size\t50\ndefault\tmode\tfast\n');
      const status = await runInProcess(['memories', 'status', ingestionId], { env });
      expect(status.stdout.trimEnd().split('\n')).toHaveLength(1);
      expect(status.stdout.split('\t').slice(0, 2)).toEqual([ingestionId, 'completed']);
    });

    it('key/value listings are `key: value` lines', async () => {
      const r = await runInProcess(['memories', 'get', memoryId], { env });
      expect(r.stdout).toMatch(new RegExp(`^memory_id: ${memoryId}$`, 'm'));
      expect(r.stdout).toContain(`\ncontent: ${LONG}\n`);
    });

    it('FORCE_COLOR forces styling into a pipe; --no-color still wins', async () => {
      const forced = await runInProcess(['memories', 'get', memoryId], {
        env: { ...env, FORCE_COLOR: '1' },
      });
      expect(forced.stdout).toMatch(SGR);
      expect(stripAnsi(forced.stdout)).toContain(`memory_id: ${memoryId}`);
      const off = await runInProcess(['--no-color', 'memories', 'get', memoryId], {
        env: { ...env, FORCE_COLOR: '1' },
      });
      expect(off.stdout).not.toMatch(ESC);
    });
  });
});
