import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createMapper } from '../../src/ingest/mapper.js';
import { detectDelimiter, readDelimited } from '../../src/ingest/readers/csv.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';

async function rows(text: string, chunk = 5): Promise<SourceRecord[]> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  const out: SourceRecord[] = [];
  for await (const b of readDelimited(Readable.from(chunks), 'in.csv', 'csv')) out.push(...b);
  return out;
}

describe('a .csv file delimited by something other than a comma', () => {
  it('detectDelimiter reads the header line, quotes respected', () => {
    expect(detectDelimiter(Buffer.from('document;user_id\r\na,b;c\n'))).toBe(';');
    expect(detectDelimiter(Buffer.from('document\tuser_id\n'))).toBe('\t');
    expect(detectDelimiter(Buffer.from('document|user_id|x\n'))).toBe('|');
    expect(detectDelimiter(Buffer.from('"a;b",c\n'))).toBe(',');
    expect(detectDelimiter(Buffer.from('"a;b"\n'))).toBe(',');
    expect(detectDelimiter(Buffer.from('document\n'))).toBe(',');
    expect(detectDelimiter(Buffer.from(''))).toBe(',');
  });

  it('a ;-delimited file is read as columns, the header split across chunks', async () => {
    const r = await rows('document;user_id;note\n"hello; world";u1;x,y\nbye;u2;\n', 3);
    expect(r.map((x) => [x.line, x.value])).toEqual([
      [2, { document: 'hello; world', user_id: 'u1', note: 'x,y' }],
      [3, { document: 'bye', user_id: 'u2', note: '' }],
    ]);
  });

  it('a broken row of a ;-delimited file fails alone and is read back from the failures file', async () => {
    const r = await rows('document;user_id\nok;u1\ntoo;many;fields\n');
    expect(r[1]!.parseError?.message).toBe('row has 3 fields but the header has 2');
    // Fixed in the failures file and read again: the row is split by ';' under its header.
    const line = {
      source: 'in.csv',
      line: 3,
      format: 'csv',
      header: r[1]!.parseError!.header,
      record: 'too many;fields',
      error: { code: 'PARSE_ERROR', message: 'x' },
    };
    const m = createMapper()({ source: 'f.jsonl', line: 1, value: line });
    expect(m.ok && m.request).toMatchObject({ document: 'too many', user_id: 'fields' });
  });
});
