import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { useRunFiles } from '../helpers/fixtures/ingest-run-files.js';
import { makeSandbox, runShell } from '../helpers/cli.js';

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

  const { stateDir } = useRunFiles(box, (e, en) => {
    emu = e;
    env = en;
  });

  it('/dev/stdin as an input: its failures go to the state directory, and the run says so', async () => {
    rmSync('/dev/stdin.failures.jsonl', { force: true });
    writeFileSync(join(dir, 'devstdin.jsonl'), '{"document":"devstdin ok"}\n{"nodoc":true}\n');
    // A real pipe (a child's 'pipe' stdin is a socket, which /dev/stdin cannot open).
    const r = await runShell('cat devstdin.jsonl | synap --json ingest /dev/stdin --format jsonl', {
      env,
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).not.toContain('unexpected error');
    const file = JSON.parse(r.stdout).result.failures_files[0] as string;
    expect(file.startsWith(stateDir)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('"nodoc":true');
    expect(r.stderr).toContain(stateDir);
    expect(r.stderr).toContain(
      'note: /dev/stdin: it is not a regular file; its failures file is kept in ',
    );
    expect(existsSync('/dev/stdin.failures.jsonl')).toBe(false);
    expect(docs('devstdin ').length).toBe(1);
  });

  it('a process substitution <(…) as an input works the same way', async () => {
    writeFileSync(join(dir, 'subst.jsonl'), '{"document":"subst ok"}\n{"nodoc":true}\n');
    const r = await runShell('synap --json ingest <(cat subst.jsonl) --format jsonl', {
      env,
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(3);
    const file = JSON.parse(r.stdout).result.failures_files[0] as string;
    expect(file.startsWith(stateDir)).toBe(true);
    expect(docs('subst ').length).toBe(1);
  });

  it('a state directory that cannot be made: one error naming it, nothing sent', async () => {
    writeFileSync(join(dir, 'blocked.jsonl'), '{"document":"blocked ok"}\n');
    writeFileSync(join(dir, 'state-file'), '');
    const r = await runShell('synap ingest <(cat blocked.jsonl) --format jsonl', {
      env: { ...env, XDG_STATE_HOME: join(dir, 'state-file') },
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      `cannot write the state directory ${join(dir, 'state-file', 'synap')}: a part of the path is not a directory (ENOTDIR)`,
    );
    expect(r.stderr).not.toContain('unexpected error');
    expect(docs('blocked ')).toEqual([]);
  });
});
