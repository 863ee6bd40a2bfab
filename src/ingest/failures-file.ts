import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { plainJson } from './document-id.js';
import type { InputFormat } from './source-record.js';

/**
 * A failed record's original with what it takes to read it back the way it was read: its
 * format and, for text that could not be parsed, a CSV header and the exact bytes when they
 * were not UTF-8. As JSON it is just the record, so whatever shows a failure sees the record;
 * the failures file writes the rest beside it (FailureLine's format, header, raw_base64).
 */
export class RecordOriginal {
  constructor(
    /** The record as read, or its whole text when it could not be parsed. */
    readonly record: unknown,
    readonly format: InputFormat,
    readonly header?: string[],
    readonly rawBase64?: string,
  ) {}

  toJSON(): unknown {
    return this.record;
  }
}

/**
 * One line of the failures file: where the record came from, why it failed and the correlation
 * id to quote. The mapper recognises such a line as ingest input and
 * retries `record`: an object as it was read, or — for a record that could not be parsed —
 * its whole text, read again in `format` (a CSV row under `header`).
 */
export interface FailureLine {
  source: string;
  line: number;
  /** The original record as read: an object, or the whole text of one that did not parse. */
  record: unknown;
  /** How `record` was read, when it is text or a CSV row (absent: JSON). */
  format?: InputFormat;
  /** CSV/TSV text: the header row it is read under. */
  header?: string[];
  /** The exact bytes of a record that was not valid UTF-8 (`record` has U+FFFD for them). */
  raw_base64?: string;
  error: { code: string; status: number | null; message: string; field?: string };
  correlation_id: string | null;
  /** ISO-8601 time the failure was recorded. */
  at: string;
}

/** Where failed records go; `FailuresFile` on disk, or an in-memory fake in tests. */
export interface FailuresSink {
  readonly path: string;
  append(line: FailureLine): void;
  /** Makes every appended line durable (written and fsync'd). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Lines appended through this object. */
  readonly count: number;
}

/** `<input>.failures.jsonl`; stdin's failures go to `stdin.failures.jsonl` in the working directory. */
export function defaultFailuresPath(input: string): string {
  return input === '-' ? 'stdin.failures.jsonl' : `${input}.failures.jsonl`;
}

/**
 * Appends failure lines to a JSON Lines file. Lines are buffered and written + fsync'd on
 * flush() (the pipeline flushes before every checkpoint), so a record the state file counts as
 * settled is on disk before the checkpoint that says so. The file is created on the first
 * failure only: a clean run leaves none behind.
 */
export class FailuresFile implements FailuresSink {
  private handle: FileHandle | undefined;
  private buffer: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private appended = 0;

  constructor(readonly path: string) {}

  get count(): number {
    return this.appended;
  }

  /** Removes a failures file left by an earlier, finished run (a fresh run starts a fresh file). */
  static async discard(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  append(line: FailureLine): void {
    this.buffer.push(`${failureLineJson(line)}\n`);
    this.appended += 1;
  }

  flush(): Promise<void> {
    // Serialised: two overlapping flushes must not interleave their writes.
    const next = this.chain.then(() => this.writeOut());
    this.chain = next.catch(() => {});
    return next;
  }

  private async writeOut(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    if (!this.handle) {
      this.handle = await open(this.path, 'a+', 0o600);
      // A run killed mid-write may have left a partial last line: start ours on a fresh line.
      const size = (await stat(this.path)).size;
      if (size > 0 && !(await endsWithNewline(this.handle, size))) {
        await this.handle.write('\n');
      }
    }
    await this.handle.write(text);
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle?.close();
    this.handle = undefined;
  }
}

async function endsWithNewline(handle: FileHandle, size: number): Promise<boolean> {
  const buf = Buffer.alloc(1);
  await handle.read(buf, 0, 1, size - 1);
  return buf[0] === 0x0a;
}

/**
 * The JSON of a failures-file line, with a RecordOriginal spelled out (record, then format,
 * header, raw_base64). A record too deeply nested for JSON.stringify (V8 recurses) is written
 * by an iterative writer instead, so no record is ever lost to a stack overflow.
 */
export function failureLineJson(line: FailureLine): string {
  let out: FailureLine = line;
  const o = line.record;
  if (o instanceof RecordOriginal) {
    const { source, line: at, error, correlation_id, at: when } = line;
    out = {
      source,
      line: at,
      record: o.record,
      format: o.format,
      ...(o.header ? { header: o.header } : {}),
      ...(o.rawBase64 !== undefined ? { raw_base64: o.rawBase64 } : {}),
      error,
      correlation_id,
      at: when,
    };
  }
  try {
    return JSON.stringify(out);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return plainJson(out);
  }
}
