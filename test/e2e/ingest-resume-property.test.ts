import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli, spawnCli, type CliRun } from '../helpers/cli.js';
import { generatedInput, type GeneratedInput } from '../helpers/reader-inputs.js';

/**
 * The promise of ingest, as a property over random inputs and random interruptions: the built
 * CLI ingests a generated input (JSON Lines, CSV or a JSON array, maybe gzipped, with garbage
 * lines, invalid UTF-8 and NUL bytes in records) into an emulator; the first run is killed
 * (SIGKILL or SIGTERM at a random moment) or stopped (--max-errors 1); sometimes the input is
 * edited before the next run, which must then refuse (exit 2) until the edit is undone; the
 * runs go on until one completes. Then every record is stored once (the emulator's store) or
 * in the failures file with its original text — never both, never neither — and nothing is
 * stored whose text was changed.
 *
 * Seeded; SYNAP_PROPERTY_RUNS sets the number of inputs (default 6, ~30 s; CI runs 200 in a
 * step of its own, .ci/run), SYNAP_PROPERTY_SEED the seed, to replay a failure or go wider.
 */

const RUNS = Number(process.env.SYNAP_PROPERTY_RUNS ?? 6);
const SEED = Number(process.env.SYNAP_PROPERTY_SEED ?? 20_241_201);

interface Schedule {
  stop: 'kill' | 'term' | 'max-errors' | 'none';
  afterMs: number;
  edit: 'flip' | 'append' | 'truncate' | null;
  at: number;
  batchSize: number;
}

const schedule: fc.Arbitrary<Schedule> = fc.record({
  stop: fc.constantFrom<Schedule['stop']>('kill', 'term', 'max-errors', 'none'),
  afterMs: fc.integer({ min: 250, max: 1200 }),
  edit: fc.constantFrom<Schedule['edit']>('flip', 'append', 'truncate', null),
  at: fc.double({ min: 0, max: 0.999, noNaN: true }),
  batchSize: fc.integer({ min: 1, max: 4 }),
});

/** Inputs whose every record is wholly in the file: a cut record's fate is the readers' matter. */
const wholeInput = generatedInput.filter((g) => !g.gzipCut && g.records.length > 0);

interface FailureLine {
  source: string;
  line: number;
  record: unknown;
  raw_base64?: string;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

/** The failure lines that hold record `w`: at its line, with its value or its exact bytes. */
function failuresOf(w: GeneratedInput['records'][number], lines: FailureLine[]): FailureLine[] {
  return lines.filter((f) => {
    if (f.line !== w.line) return false;
    if (w.intact && deepEqual(f.record, w.value)) return true;
    const bytes =
      f.raw_base64 !== undefined
        ? Buffer.from(f.raw_base64, 'base64')
        : Buffer.from(typeof f.record === 'string' ? f.record : JSON.stringify(f.record));
    return bytes.includes(w.text);
  });
}

/** Violations of the invariant after the last run (empty: it holds). */
function check(input: GeneratedInput, emu: RunningEmulator, failuresPath: string): string[] {
  const problems: string[] = [];
  const stored = new Map<string, number>();
  for (const d of emu.documents()) stored.set(d.document_id, (stored.get(d.document_id) ?? 0) + 1);
  const lines: FailureLine[] = existsSync(failuresPath)
    ? readFileSync(failuresPath, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as FailureLine)
    : [];
  for (const w of input.records) {
    if (w.cut) continue;
    const id = String(w.value.document_id);
    const n = stored.get(id) ?? 0;
    const failed = failuresOf(w, lines);
    const what = `record ${id} at line ${w.line} (${JSON.stringify(w.text.toString('utf8')).slice(0, 60)})`;
    if (n > 1) problems.push(`${what}: stored ${n} times`);
    if (failed.length > 1) problems.push(`${what}: in the failures file ${failed.length} times`);
    if (n > 0 && failed.length > 0) problems.push(`${what}: both stored and in the failures file`);
    if (n === 0 && failed.length === 0) problems.push(`${what}: neither stored nor failed`);
    if (n > 0 && !w.intact) problems.push(`${what}: stored although its text was changed`);
  }
  return problems;
}

function editInput(path: string, how: NonNullable<Schedule['edit']>, at: number): void {
  const bytes = readFileSync(path);
  if (how === 'append') writeFileSync(path, Buffer.concat([bytes, Buffer.from('\n')]));
  else if (how === 'truncate')
    writeFileSync(path, bytes.subarray(0, Math.max(0, bytes.length - 1)));
  else {
    const copy = Buffer.from(bytes);
    const i = Math.min(copy.length - 1, Math.floor(at * copy.length));
    copy[i] = copy[i]! ^ 0x20;
    writeFileSync(path, copy);
  }
}

describe('ingest and resume keep every record, whatever stops them (property)', () => {
  const box = makeSandbox();
  afterAll(() => box.cleanup());
  let caseNo = 0;

  // The time limit, an hour, leaves room for 1,000 inputs (1–3.5 s each).
  it(`holds for ${RUNS} random inputs, cuts and edits (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(wholeInput, schedule, async (input, plan) => {
        const dir = mkdtempSync(join(box.dir, `case${caseNo++}-`));
        const ext = { jsonl: 'jsonl', csv: 'csv', json: 'json' }[input.format];
        const path = join(dir, `in.${ext}${input.gzip ? '.gz' : ''}`);
        writeFileSync(path, input.bytes);
        // A whole-second modification time, so undoing an edit can give it back exactly.
        const mtime = new Date(Math.floor(statSync(path).mtimeMs / 1000) * 1000 - 60_000);
        utimesSync(path, mtime, mtime);
        const emu = await startEmulator({ processingDelayMs: 0, tier: 'unlimited', latencyMs: 30 });
        const env = { ...box.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
        const base = ['--json', 'ingest', path, '--batch-size', String(plan.batchSize)];
        const log: string[] = [];
        const note = (what: string, r: CliRun) =>
          log.push(
            `${what}: exit ${r.code ?? r.signal} ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`,
          );
        try {
          // First run: cut short one way or another.
          const first = spawnCli(
            plan.stop === 'max-errors' ? [...base, '--max-errors', '1'] : base,
            { env, cwd: dir },
          );
          let timer: NodeJS.Timeout | undefined;
          if (plan.stop === 'kill' || plan.stop === 'term') {
            timer = setTimeout(
              () => first.child.kill(plan.stop === 'kill' ? 'SIGKILL' : 'SIGTERM'),
              plan.afterMs,
            );
          }
          const r1 = await first.done;
          clearTimeout(timer);
          note(`run 1 (${plan.stop})`, r1);
          expect([0, 3, 5, 130, 143, null], log.join('\n')).toContain(r1.code);

          // An edit while a resume is pending is refused, and nothing more is stored. An input
          // that only grew (bytes appended, the bytes already read unchanged) may resume instead.
          const pending = existsSync(`${path}.synap-state.json`);
          if (pending && plan.edit) {
            const original = readFileSync(path);
            const before = emu.documents().length;
            editInput(path, plan.edit, plan.at);
            utimesSync(path, mtime, mtime);
            const edited = await runCli(base, { env, cwd: dir });
            note(`edited (${plan.edit}) run`, edited);
            if (plan.edit === 'append' && edited.code !== 2) {
              expect([0, 3, 5], log.join('\n')).toContain(edited.code);
            } else {
              expect(edited.code, log.join('\n')).toBe(2);
              expect(edited.stderr).toContain('--restart');
              expect(emu.documents().length).toBe(before);
            }
            writeFileSync(path, original);
            utimesSync(path, mtime, mtime);
          }

          // Then the same command until it completes (a resume, or a fresh start).
          let last: CliRun | undefined;
          for (let i = 0; i < 3; i++) {
            last = await runCli(base, { env, cwd: dir });
            note(`run ${i + 2}`, last);
            if (last.code === 0 || last.code === 3) break;
          }
          expect([0, 3], log.join('\n')).toContain(last!.code);
          expect(existsSync(`${path}.synap-state.json`), log.join('\n')).toBe(false);
          expect(existsSync(`${path}.synap-lock`), log.join('\n')).toBe(false);
          const failuresPath = `${path}.failures.jsonl`;
          const problems = check(input, emu, failuresPath);
          expect(problems, `${problems.join('\n')}\n${log.join('\n')}`).toEqual([]);
          // The exit code says whether anything failed.
          const summary = JSON.parse(last!.stdout).result as { failed: number };
          expect(last!.code === 3, log.join('\n')).toBe(summary.failed > 0);
        } finally {
          await emu.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }, 3_600_000);
});
