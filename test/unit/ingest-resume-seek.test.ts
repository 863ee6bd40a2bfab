import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readRecordBatches, type ReadOptions } from '../../src/ingest/readers/index.js';
import { SettlementTracker } from '../../src/ingest/settlement.js';
import type { ReadPosition, RecordBatch } from '../../src/ingest/source-record.js';
import { brief, tempFiles } from '../helpers/reader-files.js';

// Resume by seeking: the positions a plain JSON Lines file reports, reading from one of them,
// and the tracker's resume point (which records a resume may skip without reading them).

const tmp = tempFiles('synap-seek-');
const { file } = tmp;

async function batches(input: string, opts: ReadOptions = {}): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of readRecordBatches(input, opts)) out.push(b);
  return out;
}

/** Lines of every shape a JSON Lines reader meets: blank, CRLF, broken, invalid UTF-8, long. */
function awkwardJsonl(n: number): Buffer {
  const parts: Buffer[] = [Buffer.from('\uFEFF{"i":0}\n')];
  for (let i = 1; i < n; i++) {
    if (i % 97 === 0) parts.push(Buffer.from('\n'));
    else if (i % 89 === 0) parts.push(Buffer.from(`{broken ${i}\n`));
    else if (i % 83 === 0)
      parts.push(
        Buffer.concat([Buffer.from('{"bad":"'), Buffer.from([0xff]), Buffer.from('"}\n')]),
      );
    else if (i % 79 === 0) parts.push(Buffer.from(`{"i":${i},"pad":"${'x'.repeat(300_000)}"}\r\n`));
    else parts.push(Buffer.from(`{"i":${i},"text":"line ${i} ✓"}\n`));
  }
  parts.push(Buffer.from(`{"i":${n},"last":"no newline"}`));
  return Buffer.concat(parts);
}

describe('seek positions of plain JSON Lines files', () => {
  it('every array carries the position after it; reading from any of them gives exactly the rest', async () => {
    const p = await file('awkward.jsonl', awkwardJsonl(2000));
    const all = await batches(p);
    const records = all.flat();
    expect(all.length).toBeGreaterThan(3);
    const ends = all.map((b) => b.end);
    for (const end of ends) expect(end).toBeDefined();
    // Positions only grow, and the last one is the end of the file.
    for (let i = 1; i < ends.length; i++) {
      expect(ends[i]!.byte).toBeGreaterThan(ends[i - 1]!.byte);
      expect(ends[i]!.line).toBeGreaterThan(ends[i - 1]!.line);
    }
    for (const end of ends) {
      const rest = (await batches(p, { startAt: end, startAfterLine: end!.line })).flat();
      expect(brief(rest)).toEqual(brief(records.filter((r) => r.line > end!.line)));
    }
  });

  it('seeking and then skipping up to a later line is the same as skipping from the start', async () => {
    const p = await file('skip.jsonl', awkwardJsonl(600));
    const all = await batches(p);
    const first = all[0]!.end!;
    for (const after of [first.line, first.line + 1, first.line + 37, 599]) {
      const seek = (await batches(p, { startAt: first, startAfterLine: after })).flat();
      const scan = (await batches(p, { startAfterLine: after })).flat();
      expect(brief(seek)).toEqual(brief(scan));
    }
  });

  it('does not read what comes before the position: a broken prefix is never seen', async () => {
    const tail = '{"a":1}\n{"a":2}\n';
    const p = await file('prefix.jsonl', `${'garbage that is not JSON\n'.repeat(1000)}${tail}`);
    const at: ReadPosition = { line: 1000, byte: 'garbage that is not JSON\n'.length * 1000 };
    const rs = (await batches(p, { startAt: at, startAfterLine: at.line })).flat();
    expect(brief(rs)).toEqual([
      [1001, { a: 1 }],
      [1002, { a: 2 }],
    ]);
  });

  it('gzip, CSV and stdin report no positions; a position given for gzip is ignored safely', async () => {
    const text = '{"a":1}\n{"a":2}\n{"a":3}\n';
    const gz = await file('data.jsonl.gz', gzipSync(text));
    const zipped = await batches(gz);
    expect(zipped.every((b) => b.end === undefined)).toBe(true);
    const resumed = (
      await batches(gz, { startAt: { line: 1, byte: 8 }, startAfterLine: 1 })
    ).flat();
    expect(brief(resumed)).toEqual([
      [2, { a: 2 }],
      [3, { a: 3 }],
    ]);
    const csv = await file('data.csv', 'document\none\ntwo\n');
    expect((await batches(csv)).every((b) => b.end === undefined)).toBe(true);
  });
});

describe('SettlementTracker resume point', () => {
  it('one record a line: the point trails the watermark by the last record', () => {
    const t = new SettlementTracker();
    for (let i = 1; i <= 5; i++) t.register(i, i * 2);
    for (const o of [2, 1, 4]) t.settle(o);
    expect(t.settledThrough).toBe(2);
    // Records 1-2 are settled; a resume may skip lines up to 3 (record 3 starts on line 6).
    expect(t.resumePoint).toEqual({ records: 1, line: 3 });
    t.settle(3);
    expect(t.resumePoint).toEqual({ records: 3, line: 7 });
  });

  it('several records on one line (a one-line JSON array): never skips part of a line', () => {
    const t = new SettlementTracker();
    const lines = [1, 1, 1, 2, 2, 5];
    lines.forEach((line, i) => t.registerSettled(i + 1, line));
    // Records 4-6 are on lines 2 and 5; the point sits before the last line seen.
    expect(t.resumePoint).toEqual({ records: 5, line: 4 });
    const partial = new SettlementTracker();
    partial.registerSettled(1, 1);
    partial.registerSettled(2, 1);
    partial.register(3, 1);
    expect(partial.resumePoint).toEqual({ records: 0, line: 0 });
  });

  it('starts from a saved point', () => {
    const t = new SettlementTracker(40, 44);
    expect(t.resumePoint).toEqual({ records: 40, line: 44 });
    t.registerSettled(41, 45);
    expect(t.resumePoint).toEqual({ records: 40, line: 44 });
    t.registerSettled(42, 47);
    expect(t.resumePoint).toEqual({ records: 41, line: 46 });
  });
});
