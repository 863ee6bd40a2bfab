import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMapper } from '../../src/ingest/mapper.js';
import { FailuresFile, type FailureLine } from '../../src/ingest/failures-file.js';
import { inputFiles } from '../../src/ingest/run-files.js';

const line = (n: number): FailureLine => ({
  source: 'data.csv',
  line: n,
  record: { body: `text ${n}`, document_id: `d${n}` },
  error: { code: 'INVALID_INPUT', status: 422, message: 'bad' },
  correlation_id: `cid-${n}`,
  at: '2025-01-01T00:00:00.000Z',
});

describe('FailuresFile', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'synap-failures-'));
    dirs.push(d);
    return d;
  };

  it('writes one JSON object a line in the documented shape, only when flushed', async () => {
    const path = join(tmp(), 'data.csv.failures.jsonl');
    const f = new FailuresFile(path);
    f.append(line(42));
    f.append(line(43));
    await f.flush();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(Object.keys(lines[0])).toEqual([
      'source',
      'line',
      'record',
      'error',
      'correlation_id',
      'at',
    ]);
    expect(lines[0]).toEqual(line(42));
    await f.close();
    expect(f.written).toBe(2);
  });

  it('creates no file when nothing failed', async () => {
    const path = join(tmp(), 'none.failures.jsonl');
    const f = new FailuresFile(path);
    await f.close();
    expect(() => readFileSync(path)).toThrow();
  });

  it('starts on a fresh line after a partial last line (a run killed mid-write)', async () => {
    const path = join(tmp(), 'x.failures.jsonl');
    writeFileSync(path, `${JSON.stringify(line(1))}\n{"source":"data.csv","li`);
    const f = new FailuresFile(path);
    f.append(line(2));
    await f.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(JSON.parse(lines[2]!)).toEqual(line(2));
  });

  it('its lines are ingest input: the mapper retries the original record', () => {
    const map = createMapper({ map: { document: 'body' } });
    const r = map({ source: 'f.jsonl', line: 1, value: line(7) });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.request.document).toBe('text 7');
      expect(r.request.document_id).toBe('d7');
    }
  });

  it('defaults next to the input; stdin a file of its own in the working directory', async () => {
    const input = join(tmp(), 'data.csv');
    writeFileSync(input, 'document\nx\n');
    const now = Date.UTC(2024, 0, 1, 12);
    expect((await inputFiles(input, { now, inputs: new Set() })).failures).toBe(
      `${input}.failures.jsonl`,
    );
    expect((await inputFiles('-', { now, inputs: new Set() })).failures).toMatch(
      /^stdin-20240101-120000-[0-9a-f]{4}\.failures\.jsonl$/,
    );
  });
});
