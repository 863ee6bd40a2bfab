import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/in-process.js';
import { emulatorSandbox } from '../helpers/emulator.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';

/** Sharding by file, the file list, the failures of a shard, and what refuses to start. */
describe('ingest --shard-by file, --files-from, and a shard’s failures', () => {
  const t = emulatorSandbox();
  const dir = t.dir;

  const docs = (tag: string) =>
    t.emu.documents().filter((d) => d.document.startsWith(`User: ${tag}`));

  it('one shard records a bad record, in its own failures file; run again, it still exits 3', async () => {
    const lines = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({ document: `User: bad${i} hello`, document_id: `bad-${i}` }),
    );
    lines[17] = '{"document": "User: broken", ';
    writeFileSync(join(dir, 'mixed.jsonl'), `${lines.join('\n')}\n`);
    const run = (i: number) =>
      runInProcess(['--json', 'ingest', 'mixed.jsonl', '--shard', `${i}/2`], {
        env: t.env,
        cwd: dir,
      });
    const [a, b] = await Promise.all([run(0), run(1)]);
    const codes = [a!.code, b!.code].sort();
    expect(codes).toEqual([0, 3]);
    const failing = a!.code === 3 ? 0 : 1;
    const failures = join(dir, `mixed.jsonl.shard-${failing}-of-2.failures.jsonl`);
    const failed = readFileSync(failures, 'utf8').trim().split('\n');
    expect(failed).toHaveLength(1);
    expect(JSON.parse(failed[0]!)).toMatchObject({ line: 18 });
    expect(existsSync(join(dir, `mixed.jsonl.shard-${1 - failing}-of-2.failures.jsonl`))).toBe(
      false,
    );
    expect(storedOnce(docs('bad'))).toEqual({ distinct: 39, duplicates: 0 });

    const again = await run(failing);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('finished earlier by this shard, 1 record(s) failed');
    expect(JSON.parse(again.stdout).result.failures_files).toEqual([
      `mixed.jsonl.shard-${failing}-of-2.failures.jsonl`,
    ]);

    // A --failures file named for all shards is one file per shard.
    const named = await runInProcess(
      ['ingest', 'mixed.jsonl', '--shard', `${failing}/2`, '--restart', '--failures', 'bad.jsonl'],
      { env: t.env, cwd: dir },
    );
    expect(named.code).toBe(3);
    expect(existsSync(join(dir, `bad.shard-${failing}-of-2.jsonl`))).toBe(true);
  });

  it('refuses what cannot be a shard, before sending anything', async () => {
    writeChatFile(join(dir, 'small.jsonl'), 5, 'small');
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--shards', '4'], {}, /needs the shard index.*JOB_COMPLETION_INDEX/],
      [['--shards', '4'], { JOB_COMPLETION_INDEX: '4' }, /from 0 to 3/],
      [['--shard', '4/4'], {}, /numbered from 0/],
      [['--shard', '1/4', '--shards', '2'], {}, /disagree/],
      [['--shard-by', 'file'], {}, /--shard-by needs/],
      [
        ['--files-from', 'nope.txt'],
        {},
        /--files-from nope\.txt: cannot read the list: no such file or directory \(ENOENT\)/,
      ],
      // The list is the folder itself, not the files in it.
      [
        ['--files-from', '.'],
        {},
        /--files-from \.: cannot read the list: is a directory \(EISDIR\)/,
      ],
    ];
    const before = t.emu.stats().requests_total;
    for (const [flags, extra, message] of cases) {
      const r = await runInProcess(['ingest', 'small.jsonl', ...flags], {
        env: { ...t.env, ...extra },
        cwd: dir,
      });
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    // A listed file that is not there, and belongs to this shard, is named.
    writeFileSync(join(dir, 'missing.txt'), 'small.jsonl\nnot-here.jsonl\n');
    const r = await runInProcess(['ingest', '--files-from', 'missing.txt'], {
      env: t.env,
      cwd: dir,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not-here.jsonl');
    expect(t.emu.stats().requests_total).toBe(before);
  });
});
