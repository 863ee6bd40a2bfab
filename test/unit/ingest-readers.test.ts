import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { formatFromName, parseFormat } from '../../src/ingest/formats/index.js';
import { brief, readAll, tempFiles } from '../helpers/reader-files.js';

const tmp = tempFiles('synap-readers-');
const { file } = tmp;

describe('JSON Lines', () => {
  it('one record per line, 1-based physical line numbers, blank lines skipped', async () => {
    const p = await file('a.jsonl', '{"a":1}\n\n{"a":2}\n   \n{"a":3}\n');
    const rs = await readAll(p);
    expect(brief(rs)).toEqual([
      [1, { a: 1 }],
      [3, { a: 2 }],
      [5, { a: 3 }],
    ]);
    expect(rs.every((r) => r.source === p)).toBe(true);
  });

  it('CRLF line ends, a BOM, and a last line without a newline', async () => {
    const p = await file('b.ndjson', '\uFEFF{"a":1}\r\n{"a":"x\\ny"}\r\n{"a":3}');
    expect(brief(await readAll(p))).toEqual([
      [1, { a: 1 }],
      [2, { a: 'x\ny' }],
      [3, { a: 3 }],
    ]);
  });

  it('a record split across stream chunks is joined', async () => {
    const text = '{"document":"' + 'x'.repeat(1000) + '"}\n{"b":2}\n';
    const chunks = [];
    for (let i = 0; i < text.length; i += 7) chunks.push(Buffer.from(text.slice(i, i + 7)));
    const rs = await readAll('-', { stdin: Readable.from(chunks), format: 'jsonl' });
    expect(rs).toHaveLength(2);
    expect((rs[0]!.value as { document: string }).document).toHaveLength(1000);
    expect(rs[1]).toMatchObject({ line: 2, value: { b: 2 }, source: 'stdin' });
  });

  it('multi-byte UTF-8 split across chunks is decoded intact', async () => {
    const buf = Buffer.from('{"t":"héllo wörld ✓ 😀"}\n');
    const chunks = Array.from(buf, (b) => Buffer.from([b]));
    const rs = await readAll('-', { stdin: Readable.from(chunks), format: 'jsonl' });
    expect(rs[0]!.value).toEqual({ t: 'héllo wörld ✓ 😀' });
  });
});

describe('CSV / TSV', () => {
  it('header row; each row keyed by it; line = where the row starts', async () => {
    const p = await file(
      'c.csv',
      'document,user_id\nhello,u1\n\n"multi\nline\nnote",u2\nlast,u3\n',
    );
    expect(brief(await readAll(p))).toEqual([
      [2, { document: 'hello', user_id: 'u1' }],
      [4, { document: 'multi\nline\nnote', user_id: 'u2' }],
      [7, { document: 'last', user_id: 'u3' }],
    ]);
  });

  it('CRLF with quoted CRLF inside fields counts physical lines once', async () => {
    const p = await file(
      'd.csv',
      'document,n\r\n"a\r\nb",1\r\n"c\r\nd\r\ne",2\r\nplain,3\r\n\r\n"x\r\ny",4\r\n',
    );
    expect(brief(await readAll(p))).toEqual([
      [2, { document: 'a\r\nb', n: '1' }],
      [4, { document: 'c\r\nd\r\ne', n: '2' }],
      [7, { document: 'plain', n: '3' }],
      [9, { document: 'x\r\ny', n: '4' }],
    ]);
  });

  it('a BOM before the header is not part of the first column name', async () => {
    const p = await file('e.csv', '\uFEFFdocument,kind\nhi,a\n');
    const rs = await readAll(p);
    expect(rs[0]).toMatchObject({ line: 2, value: { document: 'hi', kind: 'a' }, format: 'csv' });
  });

  it('TSV by extension, tabs as delimiter', async () => {
    const p = await file('f.tsv', 'document\tuser_id\na, with comma\tu1\n');
    const rs = await readAll(p);
    expect(rs[0]).toMatchObject({
      line: 2,
      value: { document: 'a, with comma', user_id: 'u1' },
      format: 'tsv',
    });
  });

  it('blank header cells get a column_N name', async () => {
    const p = await file('g.csv', 'document,,x\nd,1,2\n');
    expect((await readAll(p))[0]!.value).toEqual({ document: 'd', column_2: '1', x: '2' });
  });

  it('a header only gives no records', async () => {
    const p = await file('h.csv', 'document,user_id\n');
    expect(await readAll(p)).toEqual([]);
  });
});

describe('JSON array', () => {
  it('streams elements with the line each starts on', async () => {
    const p = await file(
      'i.json',
      '[\n  {"a": 1},\n  {\n    "a": "with ] and , and \\" inside",\n    "n": [1, {"x": 2}]\n  },\n\n  {"a": 3}\n]\n',
    );
    expect(brief(await readAll(p))).toEqual([
      [2, { a: 1 }],
      [3, { a: 'with ] and , and " inside', n: [1, { x: 2 }] }],
      [8, { a: 3 }],
    ]);
  });

  it('an empty array is no records; a BOM is skipped', async () => {
    expect(await readAll(await file('j.json', '\uFEFF [ ]\n'))).toEqual([]);
  });

  it('a .json file holding one object is one record', async () => {
    const rs = await readAll(await file('k.json', '\n  {"a":1,\n "b":[1,2]}\n'));
    expect(brief(rs)).toEqual([[2, { a: 1, b: [1, 2] }]]);
  });

  it('records one after another in a .json file (JSON Lines under that name) are read one by one', async () => {
    const rs = await readAll(await file('k2.json', '{"a":1}\n{"a":2}\n\n{"a":\n3}\n'));
    expect(brief(rs)).toEqual([
      [1, { a: 1 }],
      [2, { a: 2 }],
      [4, { a: 3 }],
    ]);
  });

  it('a syntax error names its line and column, not "ends early"', async () => {
    const text =
      '[\n  {"document":"a"},\n  {"document": "b",\n   "x": tru},\n  {"document":"c"}\n]\n';
    const rs = await readAll(await file('syn.json', text));
    expect(brief(rs)).toEqual([
      [2, { document: 'a' }],
      [3, 'ERR'],
      [5, { document: 'c' }],
    ]);
    expect(rs[1]!.parseError!.message).toBe(
      'invalid JSON at line 4, column 9: "t" where a value was expected',
    );
    // The whole element is kept, to fix and re-ingest.
    expect(rs[1]!.parseError!.raw).toBe('{"document": "b",\n   "x": tru}');
    // A bracket that never closes: the error is where the structure broke, not the end.
    // The record after it is read on its own (the broken one is cut at the next boundary).
    const broken = await readAll(await file('syn2.json', '[{"a":[1},\n{"b":2}]\n'));
    expect(brief(broken)).toEqual([
      [1, 'ERR'],
      [2, { b: 2 }],
    ]);
    expect(broken[0]!.parseError!.message).toMatch(/^invalid JSON at line 1, column 9: "}"/);
    expect(broken[0]!.parseError!.raw).toBe('{"a":[1}');
  });

  it('a truncated array: earlier elements read, then an error at the broken element', async () => {
    const rs = await readAll(await file('l.json', '[{"a":1},\n{"a":2},\n{"a":'));
    expect(brief(rs)).toEqual([
      [1, { a: 1 }],
      [2, { a: 2 }],
      [3, 'ERR'],
    ]);
    expect(rs[2]!.parseError?.message).toMatch(/ends early/);
  });

  it('a truncated one-line array (a ChatGPT export): the error says at which column the cut element starts', async () => {
    const rs = await readAll(await file('one-line.json', '[{"a":1},{"a":2},{"a":'));
    expect(brief(rs)).toEqual([
      [1, { a: 1 }],
      [1, { a: 2 }],
      [1, 'ERR'],
    ]);
    expect(rs[2]!.parseError?.message).toBe(
      'the JSON array ends early, in the element at column 18 (truncated file?)',
    );
  });

  it('a bad element fails alone', async () => {
    const rs = await readAll(await file('m.json', '[{"a":1},\n{a:2},\n{"a":3}]'));
    expect(brief(rs)).toEqual([
      [1, { a: 1 }],
      [2, 'ERR'],
      [3, { a: 3 }],
    ]);
  });

  it('unclosed array and trailing content are reported; a record after the array is still read', async () => {
    const open = await readAll(await file('n.json', '[{"a":1},\n'));
    expect(open.at(-1)!.parseError?.message).toMatch(/not closed/);
    const cut = await readAll(await file('n2.json', '[{"a":1},\n{"a":2}'));
    expect(brief(cut)).toEqual([
      [1, { a: 1 }],
      [2, { a: 2 }],
      [2, 'ERR'],
    ]);
    expect(cut.at(-1)!.parseError?.message).toMatch(/not closed/);
    const trailing = await readAll(await file('o.json', '[{"a":1}]\n{"b":2}\n]oops\n'));
    expect(brief(trailing)).toEqual([
      [1, { a: 1 }],
      [2, { b: 2 }],
      [3, 'ERR'],
    ]);
    expect(trailing.at(-1)!.parseError).toMatchObject({ raw: ']oops' });
  });
});

describe('gzip', () => {
  it('by extension (.jsonl.gz, .csv.gz)', async () => {
    const a = await file('p.jsonl.gz', gzipSync('{"a":1}\n\n{"a":2}\n'));
    expect(brief(await readAll(a))).toEqual([
      [1, { a: 1 }],
      [3, { a: 2 }],
    ]);
    const b = await file('q.csv.gz', gzipSync('document\n"x\ny"\nz\n'));
    expect(brief(await readAll(b))).toEqual([
      [2, { document: 'x\ny' }],
      [4, { document: 'z' }],
    ]);
  });

  it('by magic bytes, whatever the name says', async () => {
    const p = await file('r.jsonl', gzipSync('{"a":1}\n'));
    expect(brief(await readAll(p))).toEqual([[1, { a: 1 }]]);
  });

  it('corrupt gzip → a parse error, not a crash', async () => {
    const good = gzipSync('{"a":1}\n'.repeat(1000));
    const p = await file('s.jsonl.gz', good.subarray(0, good.length - 20));
    const rs = await readAll(p);
    const last = rs.at(-1)!;
    expect(last.parseError?.message).toMatch(/corrupt or truncated gzip/);
  });
});

describe('stdin', () => {
  const stdin = (text: string | Buffer) => Readable.from([Buffer.from(text)]);

  it('sniffs JSON Lines', async () => {
    const rs = await readAll('-', { stdin: stdin('\n  {"a":1}\n{"a":2}\n') });
    expect(brief(rs)).toEqual([
      [2, { a: 1 }],
      [3, { a: 2 }],
    ]);
    expect(rs[0]!.source).toBe('stdin');
  });

  it('sniffs a JSON array', async () => {
    expect(brief(await readAll('-', { stdin: stdin('[{"a":1},{"a":2}]') }))).toEqual([
      [1, { a: 1 }],
      [1, { a: 2 }],
    ]);
  });

  it('sniffs CSV (and a BOM does not confuse it)', async () => {
    const rs = await readAll('-', { stdin: stdin('\uFEFFdocument,x\nhi,1\n') });
    expect(rs[0]).toMatchObject({ line: 2, value: { document: 'hi', x: '1' }, format: 'csv' });
  });

  it('--format wins over sniffing (TSV)', async () => {
    const rs = await readAll('-', { stdin: stdin('document\tx\nhi,there\t1\n'), format: 'tsv' });
    expect(rs[0]!.value).toEqual({ document: 'hi,there', x: '1' });
  });

  it('gzip on stdin', async () => {
    const rs = await readAll('-', { stdin: Readable.from([gzipSync('{"a":1}\n')]) });
    expect(brief(rs)).toEqual([[1, { a: 1 }]]);
  });

  it('empty stdin gives no records', async () => {
    expect(await readAll('-', { stdin: Readable.from([]) })).toEqual([]);
  });
});

describe('inputs', () => {
  it('each file with its own source and line numbers', async () => {
    const a = await file('t1.jsonl', '{"a":1}\n');
    const b = await file('t2.csv', 'a\n2\n');
    const rs = [...(await readAll(a)), ...(await readAll(b))];
    expect(rs.map((r) => [r.source, r.line])).toEqual([
      [a, 1],
      [b, 2],
    ]);
  });

  it('a missing file is a UsageError naming it', async () => {
    const missing = join(tmp.dir, 'nope.jsonl');
    const err = await readAll(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toMatch(/no such file/);
  });

  it('a directory is a UsageError', async () => {
    await expect(readAll(tmp.dir)).rejects.toThrow(/is a directory/);
  });

  it('an unknown extension without --format is a UsageError; with --format it reads', async () => {
    const p = await file('u.dat', '{"a":1}\n');
    await expect(readAll(p)).rejects.toBeInstanceOf(UsageError);
    expect(brief(await readAll(p, { format: 'jsonl' }))).toEqual([[1, { a: 1 }]]);
  });

  it('formatFromName and parseFormat', () => {
    expect(formatFromName('x.JSONL')).toBe('jsonl');
    expect(formatFromName('x.ndjson.gz')).toBe('jsonl');
    expect(formatFromName('x.tab')).toBe('tsv');
    expect(formatFromName('x.json.gz')).toBe('json');
    expect(formatFromName('x.gz')).toBeUndefined();
    expect(parseFormat('NDJSON')).toBe('jsonl');
    expect(parseFormat('csv')).toBe('csv');
    expect(() => parseFormat('xml')).toThrow(UsageError);
  });
});
