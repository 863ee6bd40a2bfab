import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvRowParser, type CsvRow } from '../../src/ingest/readers/csv-rows.js';

const { parse } = createRequire(import.meta.url)(
  'csv-parse/sync',
) as typeof import('csv-parse/sync');

/** csv-parse's rows with the options the CSV reader splits rows by (csv-rows.ts). */
function csvParseRows(text: string, delimiter: string): { rows: string[][]; unclosed: boolean } {
  const skipped: string[] = [];
  const rows = parse(text, {
    bom: true,
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err: Error | undefined) => {
      if (err) skipped.push(err.message);
      return undefined;
    },
  }) as string[][];
  // With these options an input ending inside quotes is the only error csv-parse can meet.
  expect(skipped.length).toBeLessThanOrEqual(1);
  if (skipped.length === 1) expect(skipped[0]).toMatch(/^Quote Not Closed/);
  return { rows, unclosed: skipped.length === 1 };
}

function ourRows(pieces: string[], delimiter: string): { rows: CsvRow[]; unclosed: boolean } {
  const p = new CsvRowParser(delimiter);
  const rows: CsvRow[] = [];
  pieces.forEach((piece, i) => p.push(piece, i === pieces.length - 1, rows));
  return { rows, unclosed: p.unclosedQuote };
}

/** `text` cut at the given offsets. */
function cut(text: string, at: number[]): string[] {
  const points = [...new Set(at.map((a) => a % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    out.push(text.slice(from, p));
    from = p;
  }
  out.push(text.slice(from));
  return out;
}

const pieces = ['a', 'é', ' ', ',', ';', '\t', '"', '""', '\n', '\r', '\r\n', '\u0000', '\uFEFF'];

describe('CsvRowParser splits rows as csv-parse does', () => {
  it('for random texts (any line breaks, quotes, delimiters, NUL, BOM) in random pieces', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...pieces), { maxLength: 50 }),
        fc.constantFrom(',', ';', '\t'),
        fc.array(fc.nat(60), { maxLength: 6 }),
        (parts, delimiter, cuts) => {
          const text = parts.join('');
          const expected = csvParseRows(text, delimiter);
          const ours = ourRows(cut(text, cuts), delimiter);
          expect(ours.unclosed).toBe(expected.unclosed);
          expect(ours.rows.map((r) => r.fields)).toEqual(expected.rows);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('numbers lines one a break (CRLF, LF or CR): a row starts and ends where its text is', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', ',', '"', '""', '\n', '\r\n'), { maxLength: 40 }),
        fc.constantFrom('\n', '\r\n'),
        fc.array(fc.nat(50), { maxLength: 4 }),
        (parts, eol, cuts) => {
          // One kind of line break per text, as a file has.
          const text = parts.join('').replace(/\r?\n/g, eol);
          const { rows } = ourRows(cut(text, cuts), ',');
          const lines = text.split(eol);
          let prevEnd = 0;
          for (const r of rows) {
            expect(r.line).toBeGreaterThan(prevEnd);
            expect(r.end).toBeGreaterThanOrEqual(r.line);
            // The row's text is its lines joined, the breaks inside quotes its only breaks.
            const own = lines.slice(r.line - 1, r.end).join(eol);
            expect(csvParseRows(own, ',')).toEqual({ rows: [r.fields], unclosed: false });
            prevEnd = r.end;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a row held in pieces as small as one character', () => {
    const text = 'h1,h2\r\n"a ""q"" \r\nb",c\r\n\r\nd,"e"\r\n';
    const { rows } = ourRows(text.split(''), ',');
    expect(rows.map((r) => [r.line, r.end, r.fields])).toEqual([
      [1, 1, ['h1', 'h2']],
      [2, 3, ['a "q" \r\nb', 'c']],
      [5, 5, ['d', 'e']],
    ]);
  });
});
