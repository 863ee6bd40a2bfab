import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_RECORD_BYTES } from '../../src/ingest/readers/common.js';
import { readDelimited } from '../../src/ingest/readers/csv.js';
import { readJsonArray } from '../../src/ingest/readers/json-array.js';
import { readJsonLines } from '../../src/ingest/readers/jsonl.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';

/**
 * A record far larger than a JavaScript string may be (0x1fffffe8 characters, 512 MiB) between
 * two ordinary ones, at the readers' real limit: the record before it is given out before the
 * giant is read past the limit, the giant fails alone as TOO_LARGE, the record after it is read,
 * and the reader never holds the giant whole. The giant is made while it is read (fresh 1 MiB
 * chunks, never all at once), so no 600 MiB file or buffer exists; the bytes the test process
 * holds in buffers are sampled as it goes.
 */

const MiB = 1024 * 1024;
const GIANT = 600 * MiB;

interface Feed {
  /** Bytes of the giant record made so far. */
  made: number;
  /** The most bytes held in buffers (process.memoryUsage().arrayBuffers) seen while making it. */
  peak: number;
}

/** `head`, then GIANT bytes of `x` in fresh chunks, then `tail`. */
async function* feed(head: string, tail: string, f: Feed): AsyncGenerator<Buffer> {
  yield Buffer.from(head);
  while (f.made < GIANT) {
    const chunk = Buffer.alloc(MiB, 0x78);
    f.made += chunk.length;
    if (f.made % (16 * MiB) === 0) f.peak = Math.max(f.peak, process.memoryUsage().arrayBuffers);
    yield chunk;
  }
  yield Buffer.from(tail);
}

async function read(
  gen: AsyncGenerator<SourceRecord[], number>,
  f: Feed,
): Promise<{ records: SourceRecord[]; madeAtFirst: number }> {
  const records: SourceRecord[] = [];
  let madeAtFirst = -1;
  for await (const batch of gen) {
    if (records.length === 0) madeAtFirst = f.made;
    records.push(...batch);
  }
  return { records, madeAtFirst };
}

const brief = (rs: SourceRecord[]) =>
  rs.map((r) => [r.line, r.parseError?.code ?? (r.value as { document: string }).document]);

describe('a 600 MiB record between two ordinary ones', () => {
  it('JSON Lines: the line before is given out first, the giant fails alone as TOO_LARGE, the line after is read; the giant is never held', async () => {
    const f: Feed = { made: 0, peak: 0 };
    const base = process.memoryUsage().arrayBuffers;
    const { records, madeAtFirst } = await read(
      readJsonLines(
        feed('{"document":"before"}\n{"document":"', '"}\n{"document":"after"}\n', f),
        'giant.jsonl',
      ),
      f,
    );
    expect(brief(records)).toEqual([
      [1, 'before'],
      [2, 'TOO_LARGE'],
      [3, 'after'],
    ]);
    // Given out before the giant was read anywhere near its end (a pipeline sends it then).
    expect(madeAtFirst).toBeLessThanOrEqual(MAX_RECORD_BYTES + 2 * MiB);
    expect(records[1]!.parseError!.message).toMatch(/^the record is 629,145,615 bytes, over/);
    // Held: at most the limit's worth and what the collector has not yet taken back, far
    // below the 600 MiB that holding the line whole would take.
    expect(f.peak - base).toBeLessThan(GIANT / 2);
  }, 60_000);

  it('.json: the element before is given out first, the giant fails alone as TOO_LARGE, the element after is read; the giant is never held', async () => {
    const f: Feed = { made: 0, peak: 0 };
    const base = process.memoryUsage().arrayBuffers;
    const { records, madeAtFirst } = await read(
      readJsonArray(
        feed('[{"document":"before"},\n{"document":"', '"},\n{"document":"after"}]\n', f),
        'giant.json',
      ),
      f,
    );
    expect(brief(records)).toEqual([
      [1, 'before'],
      [2, 'TOO_LARGE'],
      [3, 'after'],
    ]);
    expect(madeAtFirst).toBeLessThanOrEqual(MAX_RECORD_BYTES + 2 * MiB);
    expect(f.peak - base).toBeLessThan(GIANT / 2);
  }, 60_000);
});

describe('a CSV row over the size limit', () => {
  const rows = async (text: string, max: number, chunk = 64) => {
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
    const out: SourceRecord[] = [];
    for await (const b of readDelimited(Readable.from(chunks), 'in.csv', 'csv', 0, max))
      out.push(...b);
    return out;
  };
  const briefCsv = (rs: SourceRecord[]) =>
    rs.map((r) => [r.line, r.parseError?.code ?? (r.value as { document: string }).document]);

  it('a long quoted field fails alone as TOO_LARGE with its line and an excerpt; the rows around it are read', async () => {
    const big = 'word, and\nmore '.repeat(200);
    const text = `document,user\nbefore,u1\n"${big}",u2\nafter,u3\n`;
    const rs = await rows(text, 1000);
    expect(briefCsv(rs)).toEqual([
      [2, 'before'],
      [3, 'TOO_LARGE'],
      [204, 'after'],
    ]);
    const e = rs[1]!.parseError!;
    expect(e.message).toMatch(/^the record is 3,005 bytes, over the 1,000-byte limit/);
    expect(`"${big}",u2`.startsWith(e.raw!)).toBe(true);
    expect(e.raw!.length).toBeLessThanOrEqual(1000);
  });

  it('CRLF line breaks, and a resumed read after the large row, agree with the first read', async () => {
    const big = 'word, and\r\nmore '.repeat(200);
    const text = `document,user\r\nbefore,u1\r\n"${big}",u2\r\nafter,u3\r\n`;
    const rs = await rows(text, 1000, 7);
    expect(briefCsv(rs)).toEqual([
      [2, 'before'],
      [3, 'TOO_LARGE'],
      [204, 'after'],
    ]);
    expect(rs[1]!.parseError!.message).toMatch(/^the record is 3,205 bytes/);
    const bytes = Buffer.from(text);
    const resumed: SourceRecord[] = [];
    for await (const b of readDelimited(Readable.from([bytes]), 'in.csv', 'csv', 3, 1000))
      resumed.push(...b);
    expect(briefCsv(resumed)).toEqual([[204, 'after']]);
  });

  it('a quote never closed: the rest of the input fails as one TOO_LARGE record, held no longer than the limit', async () => {
    const text = `document,user\nbefore,u1\n"broken,u2\n${'row,u\n'.repeat(1000)}`;
    const rs = await rows(text, 500);
    expect(briefCsv(rs)).toEqual([
      [2, 'before'],
      [3, 'TOO_LARGE'],
    ]);
    expect(rs[1]!.parseError!.message).toMatch(
      /^malformed CSV: the quote opened on line 3 is never closed, so the rest of the input \(6,010 bytes\) would be one row, over the 500-byte limit/,
    );
    expect(rs[1]!.parseError!.raw!.startsWith('"broken,u2\nrow,u\n')).toBe(true);
  });

  it('a row under the limit is read as before, in any chunking', async () => {
    const text = `document,user\n"a ""quoted""\nline",u1\nplain,u2\n`;
    for (const chunk of [1, 3, 64]) {
      const rs = await rows(text, 1000, chunk);
      expect(rs.map((r) => r.value)).toEqual([
        { document: 'a "quoted"\nline', user: 'u1' },
        { document: 'plain', user: 'u2' },
      ]);
    }
  });

  it('a 600 MiB quoted field that never closes, after an ordinary row: the row is given out first, the rest fails as TOO_LARGE, never held', async () => {
    const f: Feed = { made: 0, peak: 0 };
    const base = process.memoryUsage().arrayBuffers;
    const { records, madeAtFirst } = await read(
      readDelimited(feed('document\nbefore\n"', '\nafter\n', f), 'giant.csv', 'csv'),
      f,
    );
    expect(briefCsv(records)).toEqual([
      [2, 'before'],
      [3, 'TOO_LARGE'],
    ]);
    expect(madeAtFirst).toBeLessThanOrEqual(MAX_RECORD_BYTES + 2 * MiB);
    expect(f.peak - base).toBeLessThan(GIANT / 2);
  }, 60_000);
});
