import { createRequire } from 'node:module';
import type { Options as CsvOptions } from 'csv-parse/sync';
import { parseJsonRecord } from '../readers/common.js';
import type { SourceRecord } from '../source-record.js';
import { emptyRecord } from '../validate.js';
import type { FailedText } from './spec.js';

type CsvParseSync = typeof import('csv-parse/sync');
let csvParseSync: CsvParseSync | undefined;

/**
 * CSV text parsed by csv-parse, loaded the first time a CSV row kept as text is read again
 * (a failures-file line): other ingests never load it. The mapper is synchronous, so the
 * package's CommonJS build is required, which works on every Node 20.
 */
function parseCsvText(text: string, options: CsvOptions): string[][] {
  csvParseSync ??= createRequire(import.meta.url)('csv-parse/sync') as CsvParseSync;
  return csvParseSync.parse(text, options) as string[][];
}

/** A JSON record kept as text, parsed again. */
export function rereadJson(f: FailedText): SourceRecord {
  return parseJsonRecord(f.text, f.source, f.line, 'jsonl');
}

/** A CSV/TSV row kept as text, parsed again under its header. */
export function rereadDelimited(format: 'csv' | 'tsv'): (f: FailedText) => SourceRecord {
  return (f) => {
    const { text, header, keep } = f;
    if (!header) return keep('a CSV row without its "header": add the header to the line');
    // A `.csv` row may come from a file whose delimiter was detected (readers/csv.ts): another
    // delimiter is tried when the comma does not split the row into the header's columns.
    const parse = (delimiter: string): string[][] | Error => {
      try {
        return parseCsvText(text, {
          delimiter,
          relax_quotes: true,
          relax_column_count: true,
          skip_empty_lines: true,
        });
      } catch (err) {
        return err as Error;
      }
    };
    const fits = (p: string[][] | Error): p is string[][] =>
      !(p instanceof Error) && p.length === 1 && p[0]!.length === header.length;
    let parsed = parse(format === 'tsv' ? '\t' : ',');
    if (format === 'csv' && !fits(parsed)) {
      const other = [';', '\t', '|']
        .filter((d) => text.includes(d))
        .map(parse)
        .find(fits);
      if (other) parsed = other;
    }
    if (parsed instanceof Error) return keep(`malformed CSV: ${parsed.message}`);
    if (parsed.length !== 1) {
      return keep(
        `holds ${parsed.length} CSV rows: give each its own failures-file line (same header)`,
      );
    }
    const fields = parsed[0]!;
    if (fields.length !== header.length)
      return keep(`row has ${fields.length} fields but the header has ${header.length}`);
    const value = emptyRecord<string>();
    header.forEach((h, i) => (value[h] = fields[i]!));
    return { source: f.source, line: f.line, value, format };
  };
}
