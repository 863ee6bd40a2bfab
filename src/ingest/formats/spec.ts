import type { ReadPosition, RecordBatch, SourceRecord } from '../source-record.js';

/** Where a format reader starts and what it reports records as coming from. */
export interface FormatReadContext {
  /** The name records carry as their `source` (a file, `stdin`, `export.zip:entry.json`). */
  source: string;
  /** Resume: records starting on this line or before are not yielded (0: read them all). */
  startAfterLine: number;
  /** A seekable plain file: where in it `bytes` begins (see `FormatSpec.seekable`). */
  from?: ReadPosition;
  /**
   * The input's path inside the folder it was found in (`/`-separated; an archive's entry name),
   * for sources whose ids are paths (notes). Undefined for a file named on its own.
   */
  name?: string;
  /** A file's modification time (not for stdin). */
  modifiedAt?: Date;
  /** `--created-at`: when a source without times of its own happened (ISO 8601 UTC). */
  createdAt?: string;
  /** `--channels`: the channels (names or ids) of a chat export to read; all when undefined. */
  channels?: string[];
  /** `--include-private`: a chat export's private channels and direct messages too. */
  includePrivate?: boolean;
  /** Tells the run something worth knowing that is not a failure. */
  warn?: (e: { source: string; code: string; message: string }) => void;
}

/** What a failures-file line gives back for a record kept as text. */
export interface FailedText {
  /** The record's whole text. */
  text: string;
  /** The header it is read under (tabular formats). */
  header?: string[];
  source: string;
  line: number;
  /** Where the record was first read from (the failures line's `source`), when it says. */
  origin?: string;
  /** A failure that keeps the text (it is still broken). */
  keep: (message: string) => SourceRecord;
}

/**
 * Everything the CLI knows about one input format, in one place: the entries are in
 * src/ingest/formats/index.ts, and nothing else names a format.
 */
export interface FormatSpec {
  /** `--format` value and `format` of failures-file lines. */
  readonly name: string;
  /** Other `--format` spellings. */
  readonly aliases?: readonly string[];
  /** Lower-case file name endings this format claims (".gz" after them is looked through). */
  readonly extensions: readonly string[];
  /** Lower-case whole file names this format claims, wherever they lie (Apple Mail's `mbox`). */
  readonly fileNames?: readonly string[];
  /**
   * Content sniffing. `head` is the first bytes (decompressed): at least `sniffBytes` of them
   * unless the input is shorter. Formats with `refines` are only asked once the input was
   * found to be that format (by name or by its own sniffing), and win over it when they match.
   */
  readonly sniff?: (head: Buffer) => boolean;
  /** How many bytes `sniff` wants to see (64 unless said). */
  readonly sniffBytes?: number;
  /** A more specific kind of this format (e.g. a ChatGPT export is a JSON array). */
  readonly refines?: string;
  /** What help texts call it ("JSONL", "ChatGPT export"). */
  readonly label: string;
  /** One line for `--help` ("jsonl: JSON Lines, one record a line"). */
  readonly describe: string;
  /** The records of one input's bytes, as arrays; returns the last line it reached. */
  readonly read: (
    bytes: AsyncIterable<Buffer>,
    ctx: FormatReadContext,
  ) => Promise<AsyncGenerator<RecordBatch, number | void>>;
  /** A plain file of this format resumes by seeking to the byte after its last settled record. */
  readonly seekable?: true;
  /**
   * A record that failed as text (it did not parse), read again from its failures-file line.
   * Synchronous: the mapper calls it.
   */
  readonly reread: (failed: FailedText) => SourceRecord;
  /**
   * A record of this format that could not be read stays unreadable in the failures file (a
   * mail message, a transcript, a note, a Slack day): it is fixed in its source, and the input
   * ingested again. The summary's hint says so instead of offering the failures file.
   */
  readonly fixedInSource?: true;
  /**
   * How records lie in a plain file's bytes, for what looks at them without the reader:
   * `lines` (one a line), `rows` (CSV rows: a line break inside quotes ends none), `elements`
   * (of one JSON array). The credit estimate counts a sample by it (estimate.ts); records that
   * end at a line break (`lines`, `rows`) stay as they were when bytes are appended, so the
   * ledger's memory of a finished file holds for its grown copy (src/ledger/finished.ts).
   * Undefined: none of these (a source read whole).
   */
  readonly layout?: 'lines' | 'rows' | 'elements';
  /** Records in a plain file of `size` bytes, roughly (absent, or undefined: cannot tell cheaply). */
  readonly estimate?: (path: string, size: number) => Promise<number | undefined>;
  /**
   * Rows under a header (one line at the file's start that is not a record): every value is a string, an empty cell is "not given", a metadata
   * cell holds JSON, and the failures file keeps the row with its header.
   */
  readonly tabular?: true;
  /** No record is nested too deep as read: JSON readers check it; a CSV row is one level. */
  readonly depthChecked?: true;
}
