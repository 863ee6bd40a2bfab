import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { useRunFiles } from '../helpers/fixtures/ingest-run-files.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

/**
 * Where an ingest puts its state, lock and failures files, and what it never writes over: an
 * input of the same run (however it is spelt), a symlink planted where a failures file goes, an
 * earlier stdin run's failures. Inputs that have no directory of their own to write in (a
 * read-only directory, /dev/stdin, a process substitution) keep their files in the user's state
 * directory, and the run says where.
 */

describe('the files an ingest writes', () => {
  const box = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  const dir = box.dir;
  const docs = (prefix: string) => emu.documents().filter((d) => d.document.startsWith(prefix));

  const { ro, roShards, stateDir } = useRunFiles(box, (e, en) => {
    emu = e;
    env = en;
  });

  /** Runs shards 0/2 and 1/2 of `input`, then --shard-report: the report's result. */
  const shardsThenReport = async (input: string) => {
    // The emulator advertises no limit: without --rate a shard starts at 1/2 of 60/min.
    for (const shard of ['0/2', '1/2']) {
      const r = await runInProcess(['ingest', input, '--shard', shard, '--rate', '6000'], {
        env,
        cwd: dir,
      });
      expect(r.code, r.stderr).toBe(0);
    }
    const report = await runInProcess(['--json', 'ingest', input, '--shard-report'], {
      env,
      cwd: dir,
    });
    expect(report.code, report.stderr).toBe(0);
    return JSON.parse(report.stdout).result;
  };
  const records = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => `${JSON.stringify({ document: `${prefix} ${i}` })}\n`).join(
      '',
    );

  it('--shard-report finds the shards of a symlinked input beside the file it points to', async () => {
    mkdirSync(join(dir, 'real'), { recursive: true });
    writeFileSync(join(dir, 'real', 'linked.jsonl'), records('linkshard', 20));
    symlinkSync(join('real', 'linked.jsonl'), join(dir, 'link.jsonl'));
    const r = await shardsThenReport('link.jsonl');
    expect(r).toMatchObject({ status: 'completed', completed: 2, total: 2, accepted: 20 });
    expect(r.rows.map((row: { file: string }) => row.file)).toEqual([
      join(dir, 'real', 'linked.jsonl.shard-0-of-2.synap-done.json'),
      join(dir, 'real', 'linked.jsonl.shard-1-of-2.synap-done.json'),
    ]);
    expect(docs('linkshard ').length).toBe(20);
  });

  it.skipIf(!roShards)(
    '--shard-report finds the shards of an input in a read-only directory in the state directory',
    async () => {
      const path = join(dir, 'ro-shards', 'data.jsonl');
      writeFileSync(path, records('roshard', 20));
      roShards!.readOnly();
      const r = await shardsThenReport(path);
      expect(r).toMatchObject({ status: 'completed', completed: 2, total: 2, accepted: 20 });
      for (const row of r.rows) expect(row.file.startsWith(stateDir)).toBe(true);
      expect(docs('roshard ').length).toBe(20);
    },
  );

  it('never truncates an input: `ingest data.jsonl data.jsonl.failures.jsonl` reads both whole', async () => {
    const sub = join(dir, 'both');
    mkdirSync(sub);
    writeFileSync(
      join(sub, 'data.jsonl'),
      '{"document":"both good 1"}\n{"nodoc":1}\n{"document":"both good 2"}\n',
    );
    // A failures file from an earlier run, its records fixed by hand.
    const fixed =
      '{"source":"data.jsonl","line":2,"record":{"document":"both fixed 1"},"error":{"code":"X","status":null,"message":"m"},"correlation_id":null,"at":"2024-01-01T00:00:00Z"}\n' +
      '{"source":"data.jsonl","line":5,"record":{"document":"both fixed 2"},"error":{"code":"X","status":null,"message":"m"},"correlation_id":null,"at":"2024-01-01T00:00:00Z"}\n';
    writeFileSync(join(sub, 'data.jsonl.failures.jsonl'), fixed);
    const r = await runInProcess(['--json', 'ingest', 'data.jsonl', 'data.jsonl.failures.jsonl'], {
      env,
      cwd: sub,
    });
    expect(r.code, r.stderr).toBe(3);
    expect(
      docs('both ')
        .map((d) => d.document)
        .sort(),
    ).toEqual(['both fixed 1', 'both fixed 2', 'both good 1', 'both good 2']);
    // The input is as it was; the new failure went to a file of its own, named in the summary.
    expect(readFileSync(join(sub, 'data.jsonl.failures.jsonl'), 'utf8')).toBe(fixed);
    const s = JSON.parse(r.stdout).result;
    expect(s.failures_files).toHaveLength(1);
    const written = s.failures_files[0] as string;
    expect(written).not.toBe('data.jsonl.failures.jsonl');
    expect(readFileSync(resolve(sub, written), 'utf8')).toContain('"nodoc":1');
  });

  it('stdin runs each get their own failures file, named in the summary', async () => {
    const sub = join(dir, 'stdin');
    mkdirSync(sub);
    const input = '{"document":"stdin ok"}\n{"nodoc":true}\n';
    const names: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await runInProcess(['--json', 'ingest', '-', '--format', 'jsonl'], {
        env,
        cwd: sub,
        input,
      });
      expect(r.code, r.stderr).toBe(3);
      names.push(JSON.parse(r.stdout).result.failures_files[0]);
    }
    expect(names[0]).not.toBe(names[1]);
    for (const n of names) {
      expect(n).toMatch(/stdin.*\.failures\.jsonl$/);
      expect(readFileSync(resolve(sub, n), 'utf8')).toContain('"nodoc":true');
    }
    const human = await runInProcess(['ingest', '-', '--format', 'jsonl'], {
      env,
      cwd: sub,
      input,
    });
    expect(human.code).toBe(3);
    expect(human.stderr).toMatch(/stdin[^\s]*\.failures\.jsonl/);
  });

  it.skipIf(!ro)(
    'an input in a read-only directory keeps state, lock and failures in the state directory, and resumes',
    async () => {
      const path = join(dir, 'ro', 'data.jsonl');
      const lines = Array.from({ length: 30 }, (_, i) =>
        JSON.stringify(i === 10 || i === 20 ? { nodoc: i } : { document: `ro ${i}` }),
      );
      writeFileSync(path, `${lines.join('\n')}\n`);
      ro!.readOnly();
      try {
        const first = await runInProcess(['--json', 'ingest', path, '--max-errors', '1'], { env });
        expect(first.code, first.stderr).toBe(5);
        expect(first.stderr).toContain(stateDir);
        const s1 = JSON.parse(first.stdout).result;
        expect(s1.state_files).toHaveLength(1);
        expect(s1.state_files[0].startsWith(stateDir)).toBe(true);
        expect(s1.failures_files[0].startsWith(stateDir)).toBe(true);
        const second = await runInProcess(['--json', 'ingest', path], { env });
        expect(second.code, second.stderr).toBe(3);
        const s2 = JSON.parse(second.stdout).result;
        expect(s2.resumed_past).toBeGreaterThan(0);
        expect(s2.failed).toBe(2);
        expect(docs('ro ').length).toBe(28);
        expect(readdirSync(stateDir).filter((f) => f.endsWith('.synap-lock'))).toEqual([]);
      } finally {
        ro!.unmount();
      }
    },
  );

  it('a symlink where the failures file goes is refused; its target is never written', async () => {
    const sub = join(dir, 'link');
    mkdirSync(sub);
    const victim = join(sub, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const lines = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify(i === 5 || i === 15 ? { nodoc: i } : { document: `link ${i}` }),
    );
    writeFileSync(join(sub, 'data.jsonl'), `${lines.join('\n')}\n`);
    // An interrupted run, then the failures file is swapped for a link before the resume.
    const first = await runInProcess(['ingest', 'data.jsonl', '--max-errors', '1'], {
      env,
      cwd: sub,
    });
    expect(first.code, first.stderr).toBe(5);
    rmSync(join(sub, 'data.jsonl.failures.jsonl'));
    symlinkSync(victim, join(sub, 'data.jsonl.failures.jsonl'));
    const resumed = await runInProcess(['ingest', 'data.jsonl'], { env, cwd: sub });
    expect(resumed.code, resumed.stderr).toBe(2);
    expect(resumed.stderr).toContain('symbolic link');
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    // A fresh run does not quietly delete it either.
    const fresh = await runInProcess(['ingest', 'data.jsonl', '--restart'], { env, cwd: sub });
    expect(fresh.code, fresh.stderr).toBe(2);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('--failures naming an input by another spelling is refused', async () => {
    const sub = join(dir, 'spell');
    mkdirSync(sub);
    const original = '{"document":"spell 1"}\n{"nodoc":1}\n';
    writeFileSync(join(sub, 'data.jsonl'), original);
    symlinkSync(join(sub, 'data.jsonl'), join(sub, 'alias.jsonl'));
    for (const spelling of [
      './data.jsonl',
      join(sub, 'data.jsonl'),
      'alias.jsonl',
      '../spell/data.jsonl',
    ]) {
      const r = await runInProcess(['ingest', 'data.jsonl', '--failures', spelling], {
        env,
        cwd: sub,
      });
      expect(r.code, `${spelling}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('is also an input');
    }
    expect(readFileSync(join(sub, 'data.jsonl'), 'utf8')).toBe(original);
    expect(docs('spell ').length).toBe(0);
  });
});
