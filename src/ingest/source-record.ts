// The formats are the registry's (src/ingest/formats/index.ts).
import type { InputFormat } from './formats/index.js';
export type { InputFormat } from './formats/index.js';

/** Why a record could not be read: its text did not parse, it is nested too deep, or it is too large to hold. */
export type ReadErrorCode = 'PARSE_ERROR' | 'TOO_DEEP' | 'TOO_LARGE';

/**
 * One record read from an input, before mapping. `line` is the 1-based line where the record
 * starts in its source, so every message and failures-file line can point at it.
 */
export interface SourceRecord {
  source: string;
  line: number;
  /**
   * Where a resume counts the record as starting, when that is not `line`: in a zip archive,
   * lines count on from one entry to the next (entry 2's line 1 follows entry 1's last line),
   * while `line` is the line in the record's own entry.
   */
  position?: number;
  /** The parsed record (absent when it could not be parsed). */
  value?: unknown;
  /**
   * The format it was read as: its registry entry says whether the record is a row under a
   * header (every value a string) and whether the reader checked its depth.
   */
  format?: InputFormat;
  /**
   * A conversation with no turn left to send (a ChatGPT or Claude export): not sent, not a
   * failure, counted as skipped-empty.
   */
  empty?: true;
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
