export const INPUT_FORMATS = ['jsonl', 'csv', 'tsv', 'json'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/**
 * One record read from an input, before mapping. `line` is the 1-based line where the record
 * starts in its source, so every message and failures-file line can point at it.
 */
export interface SourceRecord {
  source: string;
  line: number;
  /** The parsed record (absent when it could not be parsed). */
  value?: unknown;
  /** Set for CSV/TSV rows: every value is a string and unmapped columns go to metadata. */
  format?: InputFormat;
  parseError?: { code: 'PARSE_ERROR'; message: string; raw?: string };
}
