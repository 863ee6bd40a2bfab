import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { readRecordBatches, type ReadOptions } from '../../src/ingest/readers/index.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';

/**
 * A temporary folder for a test file's inputs, made before its tests and removed after them;
 * `file` writes one input into it and gives its path.
 */
export function tempFiles(prefix: string): {
  readonly dir: string;
  file(name: string, content: string | Buffer): Promise<string>;
} {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    async file(name, content) {
      const p = join(dir, name);
      await writeFile(p, content);
      return p;
    },
  };
}

/** The records the readers give for one input, one at a time. */
export async function* recordsOf(
  input: string,
  opts: ReadOptions = {},
): AsyncGenerator<SourceRecord, void> {
  for await (const batch of readRecordBatches(input, opts)) yield* batch;
}

/** Every record the readers give for one input. */
export async function readAll(input: string, opts: ReadOptions = {}): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of recordsOf(input, opts)) out.push(r);
  return out;
}

/** [line, value] pairs, or [line, 'ERR'] for parse errors. */
export const brief = (rs: SourceRecord[]): [number, unknown][] =>
  rs.map((r) => [r.line, r.parseError ? 'ERR' : r.value]);
