import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { declaredProgram } from '../helpers/program.js';
import { CommandLine, shellQuote } from '../../src/command-line.js';

const program = await declaredProgram();

function leaf(...path: string[]): Command {
  let cmd = program;
  for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
  return cmd;
}

const line = (args: string[], ...path: string[]) => CommandLine.parse(args, leaf(...path));

describe('CommandLine: the user’s own command line with only what must change changed', () => {
  it('next page keeps every other flag, wherever it was given, and replaces --page in place', () => {
    const args = ['--profile', 'ops', 'memories', 'list', '--page-size=5', '--user-id', 'u 1'];
    expect(line(args, 'memories', 'list').with({ set: { '--page': '2' } })).toBe(
      "synap --profile ops memories list --page-size=5 --user-id 'u 1' --page 2",
    );
    const again = ['memories', 'list', '--page', '2', '--local', '-q'];
    expect(line(again, 'memories', 'list').with({ set: { '--page': '3' } })).toBe(
      'synap memories list --page 3 --local -q',
    );
    const inline = ['memories', 'list', '--page=2', '--page-size', '50'];
    expect(line(inline, 'memories', 'list').with({ set: { '--page': '3' } })).toBe(
      'synap memories list --page 3 --page-size 50',
    );
  });

  it('ingest: the failures files replace the inputs; --failures, --format, --restart go', () => {
    const args = [
      '--local',
      'ingest',
      'a.csv',
      '--map',
      'document=body',
      '--format',
      'csv',
      'b c.csv',
      '--failures',
      'f.jsonl',
      '--restart',
      '--profile',
      'p',
    ];
    const edit = {
      args: ['f.jsonl'],
      drop: ['--failures', '--format', '--restart'],
    };
    expect(line(args, 'ingest').with(edit)).toBe(
      'synap --local ingest f.jsonl --map document=body --profile p',
    );
  });

  it('stdin input: `-` is an operand, values that start with a dash are still values', () => {
    const args = ['ingest', '-', '--format', 'jsonl', '--metadata', 'note=-x'];
    expect(line(args, 'ingest').with({ args: ['stdin.failures.jsonl'], drop: ['--format'] })).toBe(
      'synap ingest stdin.failures.jsonl --metadata note=-x',
    );
  });

  it('migrate → ingest into the target profile, without the export-side flags', () => {
    const args = ['migrate', '--from', 'a', '--to', 'b', '--only-user-id', 'u', '--rate', '60'];
    const l = line(args, 'migrate');
    expect(l.value('--to')).toBe('b');
    expect(
      l.with({
        command: ['ingest'],
        args: ['synap-ingest.failures.jsonl'],
        drop: ['--from', '--to', '--only-user-id'],
        set: { '--profile': 'b' },
      }),
    ).toBe('synap ingest synap-ingest.failures.jsonl --rate 60 --profile b');
  });

  it('a flag is added once; operands after -- stay after it', () => {
    const del = line(['memories', 'delete', 'id-1', 'id-2'], 'memories', 'delete');
    expect(del.with({ add: ['--yes'] })).toBe('synap memories delete id-1 id-2 --yes');
    const yes = line(['memories', 'delete', '-y', 'id-1'], 'memories', 'delete');
    expect(yes.with({ add: ['--yes'] })).toBe('synap memories delete -y id-1');
    const dashed = line(['memories', 'delete', '--', '-odd-id'], 'memories', 'delete');
    expect(dashed.with({ add: ['--yes'] })).toBe('synap memories delete --yes -- -odd-id');
  });

  it('quotes for a POSIX shell only what needs it', () => {
    expect(shellQuote('plain/path-1.jsonl')).toBe('plain/path-1.jsonl');
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
    expect(shellQuote('$HOME')).toBe(`'$HOME'`);
    expect(shellQuote('')).toBe(`''`);
  });
});
