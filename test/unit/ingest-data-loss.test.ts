import { describe, expect, it } from 'vitest';
import { hashDocumentId } from '../../src/ingest/document-id.js';
import { canonicalJson } from '../../src/json-value.js';
import { failureLineJson, type FailureLine } from '../../src/ingest/failures-file.js';
import { createMapper, type MapResult } from '../../src/ingest/mapper.js';
import { MAX_DEPTH, quoteInexactNumbers } from '../../src/ingest/readers/json-text.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';
import { recordsOf, tempFiles } from '../helpers/reader-files.js';

// One record never blocks a file, a failed record's line in the
// failures file holds everything needed to restore it, and no value is changed silently.

const tmp = tempFiles('synap-data-loss-');
const { file } = tmp;

async function mapAll(path: string): Promise<MapResult[]> {
  const map = createMapper();
  const out: MapResult[] = [];
  for await (const r of recordsOf(path)) out.push(map(r));
  return out;
}

/** The failures-file lines a run would write for these results (as the pipeline builds them). */
function failuresFileText(results: MapResult[]): string {
  return results
    .filter((m) => !m.ok)
    .map((m) => {
      if (m.ok) throw new Error('unreachable');
      const line: FailureLine = {
        source: m.source,
        line: m.line,
        record: m.original ?? null,
        error: { code: m.error.code, status: null, message: m.error.message },
        correlation_id: null,
        at: '2025-01-01T00:00:00.000Z',
      };
      return `${failureLineJson(line)}\n`;
    })
    .join('');
}

const nested = (depth: number, leaf: unknown = 1): string =>
  '{"a":'.repeat(depth - 1) + `{"a":${JSON.stringify(leaf)}}` + '}'.repeat(depth - 1);

describe('a deeply nested record fails alone (TOO_DEEP), the rest go on', () => {
  it('JSON Lines and JSON arrays: the deep record is TOO_DEEP with its whole text; neighbours are sent', async () => {
    const deep = `{"document":"deep","metadata":${nested(6000)}}`;
    const jsonl = await file(
      'deep.jsonl',
      `{"document":"before"}\n${deep}\n{"document":"after"}\n`,
    );
    const arr = await file('deep.json', `[{"document":"before"},\n${deep},\n{"document":"after"}]`);
    for (const p of [jsonl, arr]) {
      const rs = await mapAll(p);
      expect(rs.map((m) => [m.line, m.ok ? 'ok' : m.error.code])).toEqual([
        [1, 'ok'],
        [2, 'TOO_DEEP'],
        [3, 'ok'],
      ]);
      const failed = rs[1]!;
      expect(!failed.ok && failed.error.message).toBe(`nested more than ${MAX_DEPTH} levels deep`);
      // The failures file holds the record's text whole, and writing it does not overflow.
      const written = JSON.parse(failuresFileText(rs)) as FailureLine;
      expect(written.record).toBe(deep);
      expect(written.error.code).toBe('TOO_DEEP');
    }
  });

  it('exactly the limit is fine; one level more is not', async () => {
    const p = await file(
      'limit.jsonl',
      `{"document":"x","metadata":${nested(MAX_DEPTH - 1)}}\n{"document":"x","metadata":${nested(MAX_DEPTH)}}\n`,
    );
    expect((await mapAll(p)).map((m) => (m.ok ? 'ok' : m.error.code))).toEqual(['ok', 'TOO_DEEP']);
  });

  it('records from elsewhere (migrate) and CSV metadata cells are checked by the mapper', () => {
    let value: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < 10_000; i++) value = { a: value };
    const map = createMapper();
    const m = map({ source: 'export', line: 1, value: { document: 'x', metadata: value } });
    expect(!m.ok && m.error.code).toBe('TOO_DEEP');
    // Its failures-file line is written without a stack overflow, and reads back.
    const line = failuresFileText([m]);
    expect((JSON.parse(line) as FailureLine).error.code).toBe('TOO_DEEP');
    const cell = map({
      source: 'x.csv',
      line: 2,
      format: 'csv',
      value: { document: 'x', metadata: nested(MAX_DEPTH + 5) },
    });
    expect(!cell.ok && cell.error).toMatchObject({ code: 'TOO_DEEP', field: 'metadata' });
  });

  it('the id hash and the canonical JSON are iterative: no depth overflows them', () => {
    let value: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) value = i % 2 ? [value] : { k: value };
    expect(() => canonicalJson(value)).not.toThrow();
    expect(canonicalJson({ b: [1, { d: undefined, c: 'x' }], a: null })).toBe(
      '{"a":null,"b":[1,{"c":"x"}]}',
    );
    expect(() =>
      hashDocumentId({
        document: 'd',
        document_type: 'ai-chat-conversation',
        document_id: null,
        document_created_at: null,
        user_id: null,
        customer_id: null,
        scope: null,
        mode: 'long-range',
        metadata: { deep: value },
      }),
    ).not.toThrow();
  });
});

describe('failures-file lines hold the whole original, and re-ingesting them restores it', () => {
  /** Reads `failures` (a failures file) as ingest input, after `fix` edited each line. */
  async function reingest(
    name: string,
    failures: string,
    fix: (l: FailureLine & Record<string, unknown>) => void,
  ): Promise<MapResult[]> {
    const fixed = failures
      .trim()
      .split('\n')
      .map((t) => {
        const l = JSON.parse(t) as FailureLine & Record<string, unknown>;
        fix(l);
        return JSON.stringify(l);
      })
      .join('\n');
    return mapAll(await file(name, `${fixed}\n`));
  }

  it('JSON Lines: a long malformed line is kept whole (not 200 characters), fixed and restored', async () => {
    const text = 'x'.repeat(5000);
    const broken = `{"document":"${text}", "user_id": "u1",, "metadata":{"k":"v"}}`;
    const p = await file('long.jsonl', `{"document":"ok"}\n${broken}\n`);
    const first = await mapAll(p);
    const failures = failuresFileText(first);
    const line = JSON.parse(failures) as FailureLine & Record<string, unknown>;
    expect(line).toMatchObject({ source: p, line: 2, record: broken, format: 'jsonl' });
    expect(line.error.message).toMatch(/^invalid JSON at column 5033: "," where/);
    const again = await reingest('long.failures.jsonl', failures, (l) => {
      l.record = (l.record as string).replace(',,', ',');
    });
    expect(again.map((m) => m.ok)).toEqual([true]);
    const req = again[0]!.ok ? again[0]!.request : undefined;
    expect(req).toMatchObject({ document: text, user_id: 'u1', metadata: { k: 'v' } });
    // The restored record gets the id the unbroken line would have had.
    const direct = await mapAll(await file('direct.jsonl', `${broken.replace(',,', ',')}\n`));
    expect(req?.document_id).toBe(direct[0]!.ok && direct[0]!.request.document_id);
  });

  it('a line still broken after re-ingesting fails again with its text: nothing is lost round after round', async () => {
    const p = await file('still.jsonl', '{"document": oops}\n');
    let failures = failuresFileText(await mapAll(p));
    for (let round = 0; round < 3; round++) {
      const rs = await reingest(`still-${round}.jsonl`, failures, () => {});
      expect(rs.map((m) => (m.ok ? 'ok' : m.error.code))).toEqual(['PARSE_ERROR']);
      failures = failuresFileText(rs);
      expect((JSON.parse(failures) as FailureLine).record).toBe('{"document": oops}');
    }
  });

  it('CSV: a ragged row keeps its exact text and the header; fixed, it is read back as a row', async () => {
    const p = await file(
      'rows.csv',
      'document,user_id,priority\r\n"Printer, on ""fire""",u1,high\r\n"too, many",u2,low,extra\r\n',
    );
    const first = await mapAll(p);
    expect(first.map((m) => (m.ok ? 'ok' : m.error.code))).toEqual(['ok', 'PARSE_ERROR']);
    const failures = failuresFileText(first);
    const line = JSON.parse(failures) as FailureLine & Record<string, unknown>;
    expect(line).toMatchObject({
      line: 3,
      record: '"too, many",u2,low,extra',
      format: 'csv',
      header: ['document', 'user_id', 'priority'],
    });
    const again = await reingest('rows.failures.jsonl', failures, (l) => {
      l.record = (l.record as string).replace(',extra', '');
    });
    expect(again[0]!.ok && again[0]!.request).toMatchObject({
      document: 'too, many',
      user_id: 'u2',
      metadata: { priority: 'low' },
    });
  });

  it('CSV: a row that failed mapping is read back as a CSV row (empty cells absent, metadata JSON)', async () => {
    const p = await file('nodoc.csv', 'document,mode,metadata,n\n,,"{""k"":1}",7\n');
    const first = await mapAll(p);
    expect(!first[0]!.ok && first[0]!.error.message).toBe(
      'document is empty: the column "document" is empty',
    );
    const failures = failuresFileText(first);
    expect(JSON.parse(failures)).toMatchObject({
      format: 'csv',
      record: { document: '', mode: '' },
    });
    const again = await reingest('nodoc.failures.jsonl', failures, (l) => {
      (l.record as Record<string, string>).document = 'now here';
    });
    expect(again[0]!.ok && again[0]!.request).toMatchObject({
      document: 'now here',
      mode: 'long-range',
      metadata: { k: 1, n: '7' },
    });
  });

  it('CSV: rows csv-parse cannot read keep every line they span', async () => {
    const p = await file('quote.csv', 'document,n\nok1,1\n"never closed,2\nok3,3\n');
    const rs = await mapAll(p);
    expect(rs.map((m) => [m.line, m.ok ? 'ok' : m.error.code])).toEqual([
      [2, 'ok'],
      [3, 'PARSE_ERROR'],
    ]);
    expect(JSON.parse(failuresFileText(rs))).toMatchObject({
      record: '"never closed,2\nok3,3',
      header: ['document', 'n'],
    });
  });

  it('JSON array: a broken element is kept whole, fixed and restored', async () => {
    const p = await file(
      'arr.json',
      '[\n {"document":"a"},\n {"document":\n   "b" "c"},\n {"document":"d"}\n]',
    );
    const first = await mapAll(p);
    expect(first.map((m) => (m.ok ? 'ok' : m.error.code))).toEqual(['ok', 'PARSE_ERROR', 'ok']);
    const failures = failuresFileText(first);
    expect(JSON.parse(failures)).toMatchObject({
      line: 3,
      record: '{"document":\n   "b" "c"}',
      format: 'json',
    });
    const again = await reingest('arr.failures.jsonl', failures, (l) => {
      l.record = (l.record as string).replace('"b" "c"', '"b c"');
    });
    expect(again[0]!.ok && again[0]!.request.document).toBe('b c');
  });

  it('a value that is not an object keeps its JSON text (a string stays a string, not text to parse)', async () => {
    const p = await file('scalar.json', '["just text", {"document":"x"}]');
    const first = await mapAll(p);
    const failures = failuresFileText(first);
    expect(JSON.parse(failures)).toMatchObject({ record: '"just text"' });
    const again = await reingest('scalar.failures.jsonl', failures, () => {});
    expect(!again[0]!.ok && again[0]!.error.message).toMatch(
      /must be a JSON object, got "just text"/,
    );
  });

  it('invalid UTF-8: the exact bytes are kept (base64), and it is not sent until corrected', async () => {
    const bad = Buffer.concat([
      Buffer.from('{"document":"caf'),
      Buffer.from([0xe9]), // Latin-1 é
      Buffer.from('"}'),
    ]);
    const p = await file(
      'latin1.jsonl',
      Buffer.concat([bad, Buffer.from('\n{"document":"ok"}\n')]),
    );
    const first = await mapAll(p);
    expect(first.map((m) => (m.ok ? 'ok' : m.error.message))).toEqual(['invalid UTF-8', 'ok']);
    const failures = failuresFileText(first);
    const line = JSON.parse(failures) as FailureLine & Record<string, unknown>;
    expect(line.record).toBe('{"document":"caf\uFFFD"}');
    expect(Buffer.from(line.raw_base64 as string, 'base64')).toEqual(bad);
    // Re-ingested as it is: refused, still carrying the bytes.
    const untouched = await reingest('latin1-a.jsonl', failures, () => {});
    expect(!untouched[0]!.ok && untouched[0]!.error.message).toMatch(/not valid UTF-8/);
    expect(JSON.parse(failuresFileText(untouched))).toMatchObject({ raw_base64: line.raw_base64 });
    // Corrected, with raw_base64 removed: sent.
    const fixed = await reingest('latin1-b.jsonl', failures, (l) => {
      l.record = (l.record as string).replace('\uFFFD', 'é');
      delete l.raw_base64;
    });
    expect(fixed[0]!.ok && fixed[0]!.request.document).toBe('café');
  });
});

describe('no silent changes to data', () => {
  it('JSON array: invalid UTF-8 fails that element (bytes kept), as JSON Lines and CSV do', async () => {
    const p = await file(
      'utf8.json',
      Buffer.concat([
        Buffer.from('[{"document":"a"},\n{"document":"b'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"},\n{"document":"\u00e9 \uFFFD literal"}]'),
      ]),
    );
    const rs: SourceRecord[] = [];
    for await (const r of recordsOf(p)) rs.push(r);
    expect(rs.map((r) => [r.line, r.parseError?.message ?? r.value])).toEqual([
      [1, { document: 'a' }],
      [2, 'invalid UTF-8'],
      [3, { document: '\u00e9 \uFFFD literal' }],
    ]);
    expect(Buffer.from(rs[1]!.parseError!.rawBase64!, 'base64').subarray(13, 16)).toEqual(
      Buffer.from('b\xff\xfe', 'latin1'),
    );
  });

  it('numbers JSON.parse cannot hold exactly are kept as their source text (JSON Lines and arrays)', async () => {
    const rec =
      '{"document":"n","metadata":{"big":123456789012345678901234567890,"huge":1e400,' +
      '"tiny":-1e-400,"long":0.1234567890123456789,"id":9007199254740993,' +
      '"ok":[1.5,1.50,100,1E2,-0,9007199254740991,0.30000000000000004,1.7976931348623157e308]},' +
      '"user_id":12345678901234567890123}';
    const expected = {
      big: '123456789012345678901234567890',
      huge: '1e400',
      tiny: '-1e-400',
      long: '0.1234567890123456789',
      id: '9007199254740993',
      ok: [1.5, 1.5, 100, 100, -0, 9007199254740991, 0.30000000000000004, 1.7976931348623157e308],
    };
    for (const p of [await file('num.jsonl', `${rec}\n`), await file('num.json', `[${rec}]`)]) {
      const [m] = await mapAll(p);
      expect(m!.ok && m!.request.metadata).toEqual(expected);
      expect(m!.ok && m!.request.user_id).toBe('12345678901234567890123');
    }
  });

  it('strings that look like numbers are left alone; exact numbers cost no rewrite', () => {
    expect(quoteInexactNumbers('{"a":"123456789012345678901234567890","b":1e5}')).toBeUndefined();
    expect(quoteInexactNumbers('{"a":"x\\"1e400","b":1e400}')).toBe(
      '{"a":"x\\"1e400","b":"1e400"}',
    );
    expect(quoteInexactNumbers('[12345678901234567]')).toBe('["12345678901234567"]');
    expect(quoteInexactNumbers('[1234567890123456]')).toBeUndefined();
  });
});
