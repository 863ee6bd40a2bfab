import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMapper } from '../../src/ingest/mapper.js';
import { recordsOf } from '../helpers/reader-files.js';

// The checked-in bad-input corpus (test/fixtures/bad-input/, small files with CRLF, a BOM,
// invalid UTF-8 and NUL bytes written byte by byte; the 20 MB line is generated in
// ingest-corpus.test.ts). Every bad record is reported with its file, line and reason, and
// every good record around it is read and mapped.

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/bad-input/${name}`, import.meta.url));

async function outcomes(name: string): Promise<[number, string][]> {
  const path = fixture(name);
  const map = createMapper();
  const out: [number, string][] = [];
  for await (const rec of recordsOf(path)) {
    expect(rec.source).toBe(path);
    const m = map(rec);
    if (m.ok) out.push([m.line, `ok ${m.request.document_id}`]);
    else
      out.push([
        m.line,
        `${m.error.code}${m.error.field ? ` ${m.error.field}` : ''}: ${m.error.message}`,
      ]);
  }
  return out;
}

describe('bad-input fixtures', () => {
  it('records.jsonl', async () => {
    expect(await outcomes('records.jsonl')).toEqual([
      [1, 'ok good-1'],
      [2, expect.stringMatching(/^PARSE_ERROR: invalid JSON/)],
      [4, 'PARSE_ERROR: invalid UTF-8'],
      [5, expect.stringMatching(/^PARSE_ERROR: contains a NUL byte \(at column \d+\)$/)],
      [6, 'ok good-6'],
      [7, 'INVALID_INPUT document: document is missing'],
      [8, 'INVALID_INPUT document: document is empty'],
      [9, 'INVALID_INPUT document: document must be a string, got an array'],
      [
        10,
        expect.stringMatching(/^INVALID_INPUT document_type: document_type "tweet" is not one of/),
      ],
      [11, 'INVALID_INPUT mode: mode "turbo" is not one of fast, long-range'],
      [
        12,
        expect.stringMatching(
          /^INVALID_INPUT document_created_at: document_created_at "yesterday" is not an ISO-8601 date/,
        ),
      ],
      [
        13,
        expect.stringMatching(
          /^INVALID_INPUT document_created_at: document_created_at "2024-13-01"/,
        ),
      ],
      [14, 'INVALID_INPUT metadata: metadata must be an object, got "a=b"'],
      [16, 'ok good-17'],
      [17, expect.stringMatching(/^PARSE_ERROR: invalid JSON/)],
    ]);
  });

  it('rows.csv', async () => {
    expect(await outcomes('rows.csv')).toEqual([
      [2, 'ok good-2'],
      [4, 'PARSE_ERROR: row has 5 fields but the header has 4'],
      [5, 'PARSE_ERROR: row has 2 fields but the header has 4'],
      [7, 'PARSE_ERROR: column "document" contains invalid UTF-8'],
      [8, 'PARSE_ERROR: column "document" contains a NUL byte'],
      [9, 'INVALID_INPUT document: document is empty: the column "document" is empty'],
      [10, 'ok good-10'],
      [11, expect.stringMatching(/^PARSE_ERROR: malformed CSV: .*quote/i)],
    ]);
  });

  it('array.json', async () => {
    expect(await outcomes('array.json')).toEqual([
      [2, 'ok good-2'],
      [3, expect.stringMatching(/^PARSE_ERROR: invalid JSON/)],
      [4, 'ok good-4'],
      [6, 'INVALID_INPUT: a record must be a JSON object, got "not an object"'],
      [7, 'ok good-7'],
      [8, 'PARSE_ERROR: the JSON array ends early, in the element at column 3 (truncated file?)'],
    ]);
  });
});
