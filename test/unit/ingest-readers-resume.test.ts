import { utimes } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sniffFormat } from '../../src/ingest/formats/index.js';
import { inputIdentity, readRecordBatches } from '../../src/ingest/readers/index.js';
import { brief, readAll, recordsOf, tempFiles } from '../helpers/reader-files.js';

// Resume support of the readers (startAfterLine), the input identity used by the state file,
// early termination, and gzip errors under every format.

const tmp = tempFiles('synap-readers-resume-');
const { file } = tmp;

describe('startAfterLine', () => {
  it('JSON Lines: skips records starting on or before the line, including bad ones', async () => {
    const p = await file('a.jsonl', '{"a":1}\n{broken\n\n{"a":4}\n{"a":5}\n{bad6\n{"a":7}');
    const all = await readAll(p);
    expect(brief(all)).toEqual([
      [1, { a: 1 }],
      [2, 'ERR'],
      [4, { a: 4 }],
      [5, { a: 5 }],
      [6, 'ERR'],
      [7, { a: 7 }],
    ]);
    // Skipping by the line of the N-th record skips exactly the first N records.
    for (let n = 0; n <= all.length; n++) {
      const after = n === 0 ? 0 : all[n - 1]!.line;
      expect(brief(await readAll(p, { startAfterLine: after }))).toEqual(brief(all.slice(n)));
    }
    expect(await readAll(p, { startAfterLine: 99 })).toEqual([]);
  });

  it('JSON Lines: a skipped line may be long and span chunks; the next line is intact', async () => {
    const long = `{"document":"${'y'.repeat(600_000)}"}`;
    const p = await file('long.jsonl', `${long}\n${long}\n{"a":3}\n`);
    expect(brief(await readAll(p, { startAfterLine: 2 }))).toEqual([[3, { a: 3 }]]);
    const rs = await readAll(p, { startAfterLine: 1 });
    expect(rs.map((r) => r.line)).toEqual([2, 3]);
    expect((rs[0]!.value as { document: string }).document.length).toBe(600_000);
  });

  it('JSON array: elements starting at or before the line are not parsed or yielded', async () => {
    const p = await file('a.json', '[\n {"a":1},\n {"a":\n  2},\n {bad},\n {"a":4}\n]\n');
    expect(brief(await readAll(p))).toEqual([
      [2, { a: 1 }],
      [3, { a: 2 }],
      [5, 'ERR'],
      [6, { a: 4 }],
    ]);
    expect(brief(await readAll(p, { startAfterLine: 3 }))).toEqual([
      [5, 'ERR'],
      [6, { a: 4 }],
    ]);
    expect(brief(await readAll(p, { startAfterLine: 4 }))).toEqual([
      [5, 'ERR'],
      [6, { a: 4 }],
    ]);
  });

  it('CSV: rows starting at or before the line are skipped; quoted newlines still counted', async () => {
    const p = await file(
      'a.csv',
      'document,n\n"multi\nline",1\nshort\nplain,3\n"x\r\ny",4\nlast,5\n',
    );
    expect(brief(await readAll(p))).toEqual([
      [2, { document: 'multi\nline', n: '1' }],
      [4, 'ERR'],
      [5, { document: 'plain', n: '3' }],
      [6, { document: 'x\r\ny', n: '4' }],
      [8, { document: 'last', n: '5' }],
    ]);
    expect(brief(await readAll(p, { startAfterLine: 4 }))).toEqual([
      [5, { document: 'plain', n: '3' }],
      [6, { document: 'x\r\ny', n: '4' }],
      [8, { document: 'last', n: '5' }],
    ]);
    expect(brief(await readAll(p, { startAfterLine: 6 }))).toEqual([
      [8, { document: 'last', n: '5' }],
    ]);
  });

  it('works through gzip', async () => {
    const p = await file('z.jsonl.gz', gzipSync('{"a":1}\n{"a":2}\n{"a":3}\n'));
    expect(brief(await readAll(p, { startAfterLine: 2 }))).toEqual([[3, { a: 3 }]]);
  });
});

describe('gzip errors in every format', () => {
  it.each([
    ['c.csv.gz', 'document\n' + 'row\n'.repeat(5000)],
    ['c.tsv.gz', 'document\tx\n' + 'row\t1\n'.repeat(5000)],
    ['c.json.gz', `[${'{"a":1},'.repeat(5000)}{"a":1}]`],
    ['c.jsonl.gz', '{"a":1}\n'.repeat(5000)],
  ])(
    '%s truncated: records before the damage, the one it cut (with its partial text), then one error (no hang)',
    async (name, text) => {
      const gz = gzipSync(text);
      const p = await file(name, gz.subarray(0, Math.floor(gz.length * 0.7)));
      const rs = await readAll(p);
      const last = rs.at(-1)!;
      expect(last.parseError?.message).toMatch(/corrupt or truncated gzip/);
      // The compact JSON array is all on line 1.
      expect(last.line).toBeGreaterThan(name === 'c.json.gz' ? 0 : 1);
      const before = rs.slice(0, -1);
      expect(before.length).toBeGreaterThan(100);
      const cutOff = before.filter((r) => r.parseError);
      expect(cutOff.length).toBeLessThanOrEqual(1);
      if (cutOff[0]) {
        expect(cutOff[0]).toBe(before.at(-1));
        const raw = cutOff[0].parseError!.raw;
        if (raw !== undefined) expect(text).toContain(raw);
        else expect(cutOff[0].parseError!.message).toMatch(/not closed/);
      }
    },
  );
});

describe('early termination', () => {
  it('a consumer that stops after one record ends the read (file closed, no error)', async () => {
    const p = await file('many.jsonl', '{"a":1}\n'.repeat(100_000));
    let n = 0;
    for await (const r of recordsOf(p)) {
      expect(r.line).toBe(1);
      n += 1;
      break;
    }
    expect(n).toBe(1);
    const csv = await file('many.csv', `d\n${'x\n'.repeat(100_000)}`);
    for await (const r of recordsOf(csv)) {
      expect(r.line).toBe(2);
      break;
    }
  });

  it('backpressure: an unconsumed reader does not read the whole file ahead', async () => {
    const p = await file('pull.jsonl', `${'{"a":1}\n'.repeat(10)}`);
    const it = recordsOf(p);
    const first = await it.next();
    expect(first.value?.line).toBe(1);
    await it.return?.();
    expect((await it.next()).done).toBe(true);
  });
});

describe('inputIdentity', () => {
  it('same content → same fingerprint; size, head or tail change → different', async () => {
    const body = Buffer.alloc(300 * 1024, 'a');
    const p1 = await file('id1.jsonl', body);
    const p2 = await file('id2.jsonl', body);
    const a = await inputIdentity(p1);
    const b = await inputIdentity(p2);
    expect(a).toMatchObject({ path: p1, size: body.length });
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(typeof a.mtimeMs).toBe('number');

    const head = Buffer.from(body);
    head[10] = 0x62;
    const tail = Buffer.from(body);
    tail[tail.length - 10] = 0x62;
    const longer = Buffer.concat([body, Buffer.from('a')]);
    for (const changed of [head, tail, longer]) {
      const p = await file('changed.jsonl', changed);
      expect((await inputIdentity(p)).fingerprint).not.toBe(a.fingerprint);
    }
    // mtime alone does not change the fingerprint (a `touch` is not a change of content)
    await utimes(p2, new Date(2000, 1, 1), new Date(2000, 1, 1));
    const touched = await inputIdentity(p2);
    expect(touched.fingerprint).toBe(a.fingerprint);
    expect(touched.mtimeMs).not.toBe(b.mtimeMs);
  });

  it('small and empty files', async () => {
    const e = await inputIdentity(await file('empty.jsonl', ''));
    const s = await inputIdentity(await file('small.jsonl', '{"a":1}\n'));
    expect(e.size).toBe(0);
    expect(s.size).toBe(8);
    expect(e.fingerprint).not.toBe(s.fingerprint);
  });
});

describe('sniffFormat', () => {
  it.each([
    ['{"a":1}', 'jsonl'],
    ['\uFEFF  \n{"a":1}', 'jsonl'],
    ['\r\n[1]', 'json'],
    ['document,user_id', 'csv'],
    ['', 'csv'],
  ])('%j → %s', (head, fmt) => expect(sniffFormat(Buffer.from(head))).toBe(fmt));

  it('stdin split into one-byte chunks still sniffs and reads', async () => {
    const text = '\n\n{"a":1}\n{"a":2}\n';
    const chunks = [...Buffer.from(text)].map((b) => Buffer.from([b]));
    const rs = await readAll('-', { stdin: Readable.from(chunks) });
    expect(brief(rs)).toEqual([
      [3, { a: 1 }],
      [4, { a: 2 }],
    ]);
  });
});

describe('overlapping next() calls', () => {
  it('every record once, in order, across batches', async () => {
    const n = 40_000;
    const p = await file('ov.jsonl', Array.from({ length: n }, (_, i) => `{"i":${i}}\n`).join(''));
    const it = readRecordBatches(p);
    const results = await Promise.all(Array.from({ length: 12 }, () => it.next()));
    const batches = results.filter((r) => !r.done).map((r) => r.value!);
    expect(batches.length).toBeGreaterThan(1);
    expect(results.slice(batches.length).every((r) => r.done)).toBe(true);
    expect(batches.flat().map((r) => (r.value as { i: number }).i)).toEqual(
      Array.from({ length: n }, (_, i) => i),
    );
  });
});

describe('edges', () => {
  it('CSV: repeated header names get _2, _3 so no column is lost', async () => {
    const p = await file('dup.csv', 'document,tag,tag, ,tag\nd,a,b,c,e\n');
    expect(brief(await readAll(p))).toEqual([
      [2, { document: 'd', tag: 'a', tag_2: 'b', column_4: 'c', tag_3: 'e' }],
    ]);
  });

  it('JSON array: an empty element is an error at its line; a trailing comma is tolerated', async () => {
    const p = await file('holes.json', '[\n{"a":1},\n,\n{"a":3},\n]');
    expect(brief(await readAll(p))).toEqual([
      [2, { a: 1 }],
      [3, 'ERR'],
      [4, { a: 3 }],
    ]);
  });
});
