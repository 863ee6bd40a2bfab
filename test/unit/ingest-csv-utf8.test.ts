import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { completeCharsEnd, readDelimited } from '../../src/ingest/readers/csv.js';
import { recordsOf } from '../helpers/reader-files.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';

/** The reader's records of `bytes` handed over in the given pieces (cut at these offsets). */
async function read(bytes: Buffer, cuts: number[] = []): Promise<SourceRecord[]> {
  const chunks: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(at, c));
    at = c;
  }
  const out: SourceRecord[] = [];
  for await (const b of readDelimited(Readable.from(chunks), 'in.csv', 'csv')) out.push(...b);
  return out;
}

const outcome = (r: SourceRecord) => [r.line, r.parseError?.message ?? r.value];

describe('CSV: UTF-8 checked a chunk at a time', () => {
  it('completeCharsEnd cuts before a character the end splits, never inside one', () => {
    const e = Buffer.from('a€'); // € is E2 82 AC
    expect(completeCharsEnd(e)).toBe(4);
    expect(completeCharsEnd(e.subarray(0, 3))).toBe(1);
    expect(completeCharsEnd(e.subarray(0, 2))).toBe(1);
    const four = Buffer.from('😀'); // F0 9F 98 80
    for (let n = 1; n < 4; n++) expect(completeCharsEnd(four.subarray(0, n))).toBe(0);
    expect(completeCharsEnd(four)).toBe(4);
    expect(completeCharsEnd(Buffer.from([0x61, 0x80, 0x80]))).toBe(3);
  });

  it('a multi-byte character split by a chunk boundary at each of its bytes is read whole', async () => {
    const text = 'document,user_id\n"é € 😀 日本",u1\nplain 😀,u2\n';
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = await read(bytes, [cut]);
      expect(r.map(outcome), `cut at ${cut}`).toEqual([
        [2, { document: 'é € 😀 日本', user_id: 'u1' }],
        [3, { document: 'plain 😀', user_id: 'u2' }],
      ]);
    }
    // Every byte its own chunk.
    const each = await read(
      bytes,
      [...bytes.keys()].filter((k) => k > 0),
    );
    expect(each.map(outcome)).toEqual([
      [2, { document: 'é € 😀 日本', user_id: 'u1' }],
      [3, { document: 'plain 😀', user_id: 'u2' }],
    ]);
  });

  it('invalid UTF-8 at a chunk boundary fails its row alone, naming it, bytes kept', async () => {
    const bytes = Buffer.concat([
      Buffer.from('document,user_id\nfirst,u1\nbad '),
      Buffer.from([0xe2, 0x82]), // a cut-off €, then a comma: invalid
      Buffer.from(',u2\nlast \uFFFD literal,u3\n'),
    ]);
    const at = bytes.indexOf(0xe2);
    for (const cuts of [[at], [at + 1], [at + 2], [at, at + 1, at + 2]]) {
      const r = await read(bytes, cuts);
      expect(r.map(outcome), `cuts ${cuts.join(',')}`).toEqual([
        [2, { document: 'first', user_id: 'u1' }],
        [3, 'column "document" contains invalid UTF-8'],
        [4, { document: 'last \uFFFD literal', user_id: 'u3' }],
      ]);
      expect(r[1]!.source).toBe('in.csv');
      expect(Buffer.from(r[1]!.parseError!.rawBase64!, 'base64')).toEqual(
        bytes.subarray(bytes.indexOf('bad'), bytes.indexOf(',u2') + 3),
      );
    }
  });

  it('invalid UTF-8 in a quoted multi-line cell fails that row at its first line; the rows after it are read', async () => {
    const bytes = Buffer.concat([
      Buffer.from('document,user_id\n"line one\nline '),
      Buffer.from([0xff]),
      Buffer.from(' two\r\nline three",u1\n"next\nrow",u2\n'),
    ]);
    for (const cuts of [[], [bytes.indexOf(0xff)], [bytes.indexOf(0xff) + 1], [20, 33]]) {
      const r = await read(bytes, cuts);
      expect(r.map(outcome)).toEqual([
        [2, 'column "document" contains invalid UTF-8'],
        [5, { document: 'next\nrow', user_id: 'u2' }],
      ]);
      expect(r[0]!.parseError!.raw).toBe('"line one\nline \uFFFD two\r\nline three",u1');
    }
  });

  it('a character cut off by the end of the input fails the last row', async () => {
    const bytes = Buffer.concat([
      Buffer.from('document,user_id\nok,u1\nu2,cut '),
      Buffer.from([0xf0, 0x9f]),
    ]);
    const r = await read(bytes, [bytes.length - 1]);
    expect(r.map(outcome)).toEqual([
      [2, { document: 'ok', user_id: 'u1' }],
      [3, 'column "user_id" contains invalid UTF-8'],
    ]);
  });

  it('rows after a CRLF row in an LF file keep their lines: invalid bytes fail, a literal U+FFFD is kept', async () => {
    // A row ending CRLF in a file of LF rows (two files joined): the CR is text of its last
    // field, and the lines after it are still counted one a break.
    const bytes = Buffer.concat([
      Buffer.from('document,user_id\nfirst,u1\r\nbad '),
      Buffer.from([0xff]),
      Buffer.from(',u2\nliteral \uFFFD,u3\n'),
    ]);
    const r = await read(bytes, [7]);
    expect(r.map(outcome)).toEqual([
      [2, { document: 'first', user_id: 'u1\r' }],
      [3, 'column "document" contains invalid UTF-8'],
      [4, { document: 'literal \uFFFD', user_id: 'u3' }],
    ]);
    expect(r[1]!.parseError!.raw).toBe('bad \uFFFD,u2');
  });

  it('through the file reader: a character across its 256 KiB read boundary is read whole, an invalid one fails its row alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synap-csv-utf8-'));
    const boundary = 256 * 1024;
    const header = 'document,user_id\n';
    // Filler rows up to just before the boundary, then a row whose € straddles it.
    const filler: string[] = [];
    let size = header.length;
    while (size < boundary - 200) {
      const row = `filler ${filler.length},u\n`;
      filler.push(row);
      size += row.length;
    }
    const pad = 'x'.repeat(boundary - size - 'straddle '.length - 1);
    const good = Buffer.from(`${header}${filler.join('')}straddle ${pad}€ end,u\nafter,u\n`);
    expect(good.indexOf(Buffer.from('€'))).toBe(boundary - 1);
    writeFileSync(join(dir, 'good.csv'), good);
    const bad = Buffer.from(good);
    bad[boundary] = 0x41; // the € loses its second byte
    writeFileSync(join(dir, 'bad.csv'), bad);

    const records = async (name: string) => {
      const out: SourceRecord[] = [];
      for await (const r of recordsOf(join(dir, name))) out.push(r);
      return out;
    };
    const g = await records('good.csv');
    expect(g.length).toBe(filler.length + 2);
    expect(g.every((r) => r.parseError === undefined)).toBe(true);
    expect(g.at(-2)!.value).toEqual({ document: `straddle ${pad}€ end`, user_id: 'u' });
    const b = await records('bad.csv');
    expect(b.length).toBe(filler.length + 2);
    const failed = b.filter((r) => r.parseError);
    expect(failed.map((r) => [r.source, r.line, r.parseError!.message])).toEqual([
      [join(dir, 'bad.csv'), filler.length + 2, 'column "document" contains invalid UTF-8'],
    ]);
    expect(b.at(-1)!.value).toEqual({ document: 'after', user_id: 'u' });
  });
});
