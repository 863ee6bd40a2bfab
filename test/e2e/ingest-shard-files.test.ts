import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, runShell } from '../helpers/cli.js';
import { emulatorSandbox } from '../helpers/emulator.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';

/** Sharding by file, the file list, the failures of a shard, and what refuses to start. */
describe('ingest --shard-by file, --files-from, and a shard’s failures', () => {
  const t = emulatorSandbox();
  const dir = t.dir;

  const docs = (tag: string) =>
    t.emu.documents().filter((d) => d.document.startsWith(`User: ${tag}`));

  it('splits whole files listed in --files-from: each file ingested by one shard, all of them once', async () => {
    const files = Array.from({ length: 6 }, (_, i) => `tenant-${i}.jsonl`);
    files.forEach((f, i) => writeChatFile(join(dir, f), 50, `t${i}x`));
    writeFileSync(join(dir, 'list.txt'), `# tenants\n${files.join('\n')}\n\n`);
    const args = ['--json', 'ingest', '--files-from', 'list.txt', '--shard-by', 'file'];
    const runs = await Promise.all(
      [0, 1, 2].map((i) =>
        runCli([...args, '--shards', '3'], {
          env: { ...t.env, JOB_COMPLETION_INDEX: String(i) },
          cwd: dir,
        }),
      ),
    );
    const taken: string[] = [];
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      const s = JSON.parse(run.stdout).result;
      expect(s.shard_by).toBe('file');
      expect(s.other_shards).toBeUndefined();
      taken.push(...s.inputs);
    }
    expect(taken.sort()).toEqual([...files].sort());
    for (let i = 0; i < 6; i++)
      expect(storedOnce(docs(`t${i}x `))).toEqual({ distinct: 50, duplicates: 0 });
    // A file belongs to one shard: its done file carries no shard tag.
    for (const f of files) expect(existsSync(join(dir, `${f}.synap-done.json`))).toBe(true);

    const report = await runCli([...args, '--shards', '3', '--shard-report'], {
      env: t.env,
      cwd: dir,
    });
    expect(report.code, report.stderr).toBe(0);
    const r = JSON.parse(report.stdout).result;
    expect(r).toMatchObject({ status: 'completed', completed: 6, total: 6, accepted: 300 });
    // The list may come from stdin too.
    const piped = await runShell(
      `printf '%s\\n' ${files.join(' ')} | synap ingest --files-from - --shard-by file --shards 3 --shard-report`,
      { env: t.env, cwd: dir },
    );
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toContain('files completed: 6 of 6');
  });
});
