export const INPUT_FORMATS = ['jsonl', 'csv', 'tsv', 'json'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** Why a record could not be read: its text did not parse, it is nested too deep, or it is too large to hold. */
export type ReadErrorCode = 'PARSE_ERROR' | 'TOO_DEEP' | 'TOO_LARGE';

/**
 * One record read from an input, before mapping. `line` is the 1-based line where the record
 * starts in its source, so every message and failures-file line can point at it.
 */
export interface SourceRecord {
  source: string;
  line: number;
  /** The parsed record (absent when it could not be parsed). */
  value?: unknown;
  /**
   * The format it was read as. For CSV/TSV rows every value is a string and unmapped columns
   * go to metadata; JSON records (jsonl, json) were checked for depth by the reader.
   */
  format?: InputFormat;
  parseError?: {
    code: ReadErrorCode;
    message: string;
    /** The record's whole text as it was in the input (a CSV row: its lines). */
    raw?: string;
    /** The exact bytes (base64) when they are not valid UTF-8: `raw` has U+FFFD in their place. */
    rawBase64?: string;
    /** CSV/TSV: the header row, so the text can be read back as a row. */
    header?: string[];
  };
}

/**
 * A point where reading can start again: every record that starts on a line up to `line` has
 * been read, and line `line + 1` starts at byte `byte` of the file.
 */
export interface ReadPosition {
  line: number;
  byte: number;
}

/**
 * The records of one read, in order (never empty). `end`, when the reader knows it (plain JSON
 * Lines files), is the position right after them: a resume can seek there instead of re-reading.
 */
export type RecordBatch = SourceRecord[] & { end?: ReadPosition };
