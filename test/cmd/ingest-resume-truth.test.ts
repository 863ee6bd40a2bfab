import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

/**
 * A resume continues only the input it was saved for, and its summary and exit code cover the
 * whole input: a changed input is refused (exit 2) whatever the size or place of the change, a
 * state claiming more than the input holds is refused, failures of earlier parts still count,
 * and a refusal before the first record leaves nothing behind.
 */
describe('resume tells the truth about the input', () => {
  const box = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  const dir = box.dir;
  const docs = (prefix: string) => emu.documents().filter((d) => d.document.startsWith(prefix));
  const state = (path: string) =>
    JSON.parse(readFileSync(`${path}.synap-state.json`, 'utf8')) as Record<string, unknown> & {
      settled_records: number;
      resume_from: { records: number; line: number; seek: { byte: number } | null };
      watermark_line: number;
    };

  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0, tier: 'unlimited' });
    env = { ...box.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
  });
  afterAll(async () => {
    await emu.close();
    box.cleanup();
  });

  /** n records, 300 bytes each, one without a document at `bad` (0-based). */
  function bigJsonl(
    name: string,
    n: number,
    bad: number,
  ): { path: string; line: (i: number) => string } {
    const line = (i: number) =>
      JSON.stringify(i === bad ? { nodoc: i } : { document: `${name} ${i} ${'s'.repeat(280)}` });
    const path = join(dir, name);
    writeFileSync(path, `${Array.from({ length: n }, (_, i) => line(i)).join('\n')}\n`);
    wholeSecond(path);
    return { path, line };
  }

  /** A whole-second modification time, so a test can give it back exactly after an edit. */
  function wholeSecond(path: string): Date {
    const t = new Date(Math.floor(statSync(path).mtimeMs / 1000) * 1000 - 60_000);
    utimesSync(path, t, t);
    return t;
  }

  it('a same-size edit in the middle of a large file is refused (exit 2) with a --restart hint', async () => {
    const { path, line } = bigJsonl('mid.jsonl', 1000, 900);
    const first = await runInProcess(['--json', 'ingest', path, '--fail-fast'], { env });
    expect(first.code, first.stderr).toBe(5);
    expect(state(path).resume_from.seek!.byte).toBeGreaterThan(200_000);
    const stored = docs('mid.jsonl ').length;

    // Two settled lines in the middle become two others of the same bytes: the size, the first
    // and the last 64 KiB stay as they were.
    const text = readFileSync(path, 'utf8');
    const at = text.indexOf(line(500));
    expect(at).toBeGreaterThan(70_000);
    const split = `{"document":"a"}\n{"document":"${'b'.repeat(line(500).length - 32)}"}`;
    expect(split).toHaveLength(line(500).length);
    const mtime = statSync(path).mtime;
    writeFileSync(path, text.slice(0, at) + split + text.slice(at + split.length));
    // Even with its old modification time back, the content gives it away.
    utimesSync(path, mtime, mtime);

    const resumed = await runInProcess(['ingest', path], { env });
    expect(resumed.code, resumed.stderr).toBe(2);
    expect(resumed.stderr).toContain('changed');
    expect(resumed.stderr).toContain('--restart');
    expect(docs('mid.jsonl ').length).toBe(stored);
    expect(existsSync(`${path}.synap-state.json`)).toBe(true);

    const restarted = await runInProcess(['--json', 'ingest', path, '--restart'], { env });
    expect(restarted.code, restarted.stderr).toBe(3);
  }, 60_000);

  it('a file touched since the interrupted run is refused too (its modification time changed)', async () => {
    const { path } = bigJsonl('touched.jsonl', 50, 30);
    const first = await runInProcess(['ingest', path, '--fail-fast'], { env });
    expect(first.code, first.stderr).toBe(5);
    const later = new Date(Date.now() + 60_000);
    utimesSync(path, later, later);
    const resumed = await runInProcess(['ingest', path], { env });
    expect(resumed.code, resumed.stderr).toBe(2);
    expect(resumed.stderr).toContain('modified');
  });

  it('an edit inside the settled part of a CSV file (read again, not seeked) is refused', async () => {
    const rows = Array.from({ length: 400 }, (_, i) =>
      i === 300 ? ',no document' : `csv row ${i} ${'c'.repeat(400)},x`,
    );
    const path = join(dir, 'rows.csv');
    writeFileSync(path, `document,note\n${rows.join('\n')}\n`);
    wholeSecond(path);
    const first = await runInProcess(['ingest', path, '--fail-fast'], { env });
    expect(first.code, first.stderr).toBe(5);
    const text = readFileSync(path, 'utf8');
    const mtime = statSync(path).mtime;
    writeFileSync(path, text.replace('csv row 150 ', 'csv ROW 150 '));
    utimesSync(path, mtime, mtime);
    const resumed = await runInProcess(['ingest', path], { env });
    expect(resumed.code, resumed.stderr).toBe(2);
    expect(resumed.stderr).toContain('changed');
  });

  it('a resume after 5 failures exits 3 and names the failures file; the summary covers the whole input', async () => {
    const lines = Array.from({ length: 100 }, (_, i) =>
      JSON.stringify(i % 10 === 9 && i < 50 ? { nodoc: i } : { document: `parts ${i}` }),
    );
    const path = join(dir, 'parts.jsonl');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const first = await runInProcess(['--json', 'ingest', path, '--max-errors', '5'], { env });
    expect(first.code, first.stderr).toBe(5);
    expect(JSON.parse(first.stdout).result.failed).toBe(5);

    const second = await runInProcess(['--json', 'ingest', path], { env });
    expect(second.code, second.stderr).toBe(3);
    const s = JSON.parse(second.stdout).result;
    expect(s).toMatchObject({
      status: 'partial',
      exit_code: 3,
      failed: 5,
      accepted: 95,
      earlier_runs: { failed: 5, accepted: 45, skipped: 0 },
    });
    expect(s.failures_files).toEqual([`${path}.failures.jsonl`]);
    expect(readFileSync(`${path}.failures.jsonl`, 'utf8').trim().split('\n')).toHaveLength(5);

    // The same in words: the human summary of the resumed run names the failures file.
    const other = join(dir, 'parts-b.jsonl');
    writeFileSync(other, `${lines.map((l) => l.replace('parts ', 'parts-b ')).join('\n')}\n`);
    expect((await runInProcess(['ingest', other, '--max-errors', '5'], { env })).code).toBe(5);
    const words = await runInProcess(['ingest', other], { env });
    expect(words.code, words.stderr).toBe(3);
    expect(words.stderr).toContain(`${other}.failures.jsonl`);
    expect(words.stderr).not.toMatch(/failures file: \(none\)/);
  });

  it('failure lines written after the last checkpoint (a crash between the two) are recorded once', async () => {
    const lines = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify(i % 10 === 9 ? { nodoc: i } : { document: `cut ${i}` }),
    );
    const path = join(dir, 'cut.jsonl');
    const failures = `${path}.failures.jsonl`;
    writeFileSync(path, `${lines.join('\n')}\n`);
    const first = await runInProcess(['ingest', path, '--max-errors', '3'], { env });
    expect(first.code, first.stderr).toBe(5);
    const kept = readFileSync(failures, 'utf8');
    expect(kept.trim().split('\n')).toHaveLength(3);
    // What a kill between the failures write and the state write leaves: lines the state
    // does not know of (here a copy of the last one, and half of another).
    const last = kept.trim().split('\n').at(-1)!;
    writeFileSync(failures, `${kept}${last}\n${last.slice(0, 20)}`);

    const second = await runInProcess(['--json', 'ingest', path], { env });
    expect(second.code, second.stderr).toBe(3);
    const got = readFileSync(failures, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { line: number }).line);
    expect(got).toEqual([10, 20, 30, 40, 50, 60]);
    expect(JSON.parse(second.stdout).result).toMatchObject({ failed: 6, accepted: 54 });
  });

  it('a state that claims more records than the input has is refused (exit 2), not "completed"', async () => {
    const path = join(dir, 'short.jsonl');
    const lines = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify(i === 6 ? { nodoc: i } : { document: `short ${i}` }),
    );
    writeFileSync(path, `${lines.join('\n')}\n`);
    const first = await runInProcess(['ingest', path, '--fail-fast'], { env });
    expect(first.code, first.stderr).toBe(5);
    const saved = state(path);
    writeFileSync(
      `${path}.synap-state.json`,
      JSON.stringify({
        ...saved,
        settled_records: 50,
        watermark_line: 50,
        resume_from: { records: 50, line: 50, seek: null },
      }),
    );
    const resumed = await runInProcess(['ingest', path], { env });
    expect(resumed.code, resumed.stderr).toBe(2);
    expect(resumed.stderr).toContain('50');
    expect(resumed.stderr).toContain('--restart');
  });

  it('an input refused for its format leaves no state: the suggested --format re-run works', async () => {
    const path = join(dir, 'data.dat');
    writeFileSync(path, '{"document":"txt 1"}\n{"document":"txt 2"}\n');
    const refused = await runInProcess(['ingest', path], { env });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('--format');
    expect(existsSync(`${path}.synap-state.json`)).toBe(false);
    expect(existsSync(`${path}.synap-lock`)).toBe(false);
    const again = await runInProcess(['ingest', path, '--format', 'jsonl'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(docs('txt ').length).toBe(2);
  });

  it('an input refused for having no document field leaves no state and keeps an old failures file', async () => {
    const path = join(dir, 'nodocs.jsonl');
    writeFileSync(path, '{"body":"x 1"}\n{"body":"x 2"}\n');
    writeFileSync(`${path}.failures.jsonl`, 'kept\n');
    const refused = await runInProcess(['ingest', path], { env });
    expect(refused.code, refused.stderr).toBe(2);
    expect(existsSync(`${path}.synap-state.json`)).toBe(false);
    expect(readFileSync(`${path}.failures.jsonl`, 'utf8')).toBe('kept\n');
    const mapped = await runInProcess(['ingest', path, '--map', 'document=body'], { env });
    expect(mapped.code, mapped.stderr).toBe(0);
  });
});
