import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { makeSandbox } from '../helpers/cli.js';
import { declaredProgram } from '../helpers/program.js';
import { runInProcess } from '../helpers/in-process.js';
import { fitHelpText } from '../../src/output/help.js';

/**
 * Help as people read it: every command's --help (in a pipe: 80 columns) fits, lists the global
 * options, and `synap help <command> <subcommand>` shows the subcommand. Descriptions speak in
 * one voice: a lowercase verb first, no closing period.
 */

let box: ReturnType<typeof makeSandbox>;
beforeAll(() => {
  box = makeSandbox();
});
afterAll(() => box.cleanup());

function visible(cmd: Command): Command[] {
  return cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
}

/** Every command path below the root, e.g. ['memories', 'list']. */
function paths(cmd: Command, prefix: string[] = []): string[][] {
  return visible(cmd).flatMap((c) => [[...prefix, c.name()], ...paths(c, [...prefix, c.name()])]);
}

const program = await declaredProgram();
const all = [[], ...paths(program)];

describe('help', () => {
  it.each(all.map((p) => [p.join(' ') || '(root)', p]))(
    'synap %s --help: fits 80 columns, shows the global options, ends with examples',
    async (_name, path) => {
      const r = await runInProcess([...path, '--help'], { env: box.env });
      expect(r.code, r.stderr).toBe(0);
      const long = r.stdout.split('\n').filter((l) => [...l].length > 80);
      expect(long).toEqual([]);
      if (path.length > 0) {
        expect(r.stdout).toContain('Global Options:');
        expect(r.stdout).toMatch(/^\s+--profile <name>/m);
        expect(r.stdout).toMatch(/^\s+--json /m);
      }
    },
  );

  it('synap help memories list shows the help of memories list', async () => {
    const viaHelp = await runInProcess(['help', 'memories', 'list'], { env: box.env });
    const direct = await runInProcess(['memories', 'list', '--help'], { env: box.env });
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toContain('Usage: synap memories list');
    expect(viaHelp.stdout).toBe(direct.stdout);
    const group = await runInProcess(['help', 'memories'], { env: box.env });
    expect(group.stdout).toContain('Usage: synap memories');
    const unknown = await runInProcess(['help', 'memories', 'nope'], { env: box.env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "memories nope"');
  });

  it('command descriptions start with a lowercase verb and have no closing period', () => {
    const verbs =
      /^(store|ask|show|forget|print|validate|remove|list|change|delete|stream|write|copy|run|display|check)\b/;
    const walk = (cmd: Command, path: string): void => {
      for (const c of visible(cmd)) {
        const text = c.summary() || c.description();
        expect(text, `${path} ${c.name()}`).toMatch(verbs);
        expect(text.endsWith('.'), `${path} ${c.name()}`).toBe(false);
        expect(c.description().endsWith('.'), `${path} ${c.name()}`).toBe(false);
        for (const o of c.options) {
          expect(o.description, `${path} ${c.name()} ${o.flags}`).toMatch(/^([a-z]|[A-Z]{2})/);
          expect(o.description.endsWith('.'), `${o.flags}`).toBe(false);
        }
        walk(c, `${path} ${c.name()}`);
      }
    };
    walk(program, 'synap');
  });

  it('re-wraps prose past the width and keeps indented lines', () => {
    const text = `Usage: x\n\n${'word '.repeat(30).trim()}\nsecond line\n\nExamples:\n  $ ${'y'.repeat(90)}\n`;
    const out = fitHelpText(text, 40);
    expect(
      out
        .split('\n')
        .filter((l) => !l.startsWith('  $'))
        .every((l) => l.length <= 40),
    ).toBe(true);
    expect(out.replace(/\n/g, ' ')).toContain('word second line');
    expect(out).toContain(`  $ ${'y'.repeat(90)}`);
    expect(fitHelpText('short\nlines\n', 40)).toBe('short\nlines\n');
  });
});
