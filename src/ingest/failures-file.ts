import { constants } from 'node:fs';
import { lstat, open, rm, type FileHandle } from 'node:fs/promises';
import { WriteFailedError } from '../errors.js';
import { isPlainObject, plainJson } from '../json-value.js';
import type { InputFormat } from './source-record.js';
import { ownValue } from './validate.js';

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

/**
 * Whether an input record is a failures-file line (own `source`, `line`, `record` and an
 * `error` object): ingest then retries its `record`. The mapper and the document check both
 * ask this, so they read the same line the same way.
 */
export function isFailuresLine(
  v: Record<string, unknown>,
): v is Record<string, unknown> & { record: unknown } {
  return (
    Object.hasOwn(v, 'record') &&
    isPlainObject(ownValue(v, 'error')) &&
    typeof ownValue(v, 'line') === 'number' &&
    typeof ownValue(v, 'source') === 'string'
  );
}

/** What the failure recorder and the checkpointer use of a failures file. */
export type FailuresSink = Pick<FailuresFile, 'append' | 'flush' | 'close' | 'bytes'>;

/**
 * Appends failure lines to a JSON Lines file. Lines are buffered and written + fsync'd on
 * flush() (the pipeline flushes before every checkpoint), so a record the state file counts as
 * settled is on disk before the checkpoint that says so. The file is created on the first
 * failure only: a clean run leaves none behind. It is never opened through a symlink, and a
 * file named for one run alone (`unique`) is created, never appended to. A write that fails
 * (a full disk) is a WriteFailedError naming the file; an empty file it created is removed.
 */
export class FailuresFile {
  private handle: FileHandle | undefined;
  private buffer: { text: string; ordinal: number }[] = [];
  private chain: Promise<void> = Promise.resolve();
  private durable = 0;
  private created = false;
  private size: number | undefined;

  constructor(
    readonly path: string,
    private readonly o: { unique?: boolean; resumable?: boolean } = {},
  ) {}

  /** Lines made durable. */
  get written(): number {
    return this.durable;
  }

  /** Size of the file after the last durable write (undefined until it is opened). */
  get bytes(): number | undefined {
    return this.size;
  }

  /**
   * Cuts a failures file back to `bytes` (its size at the last checkpoint): what follows was
   * written for records a resume reads again. A shorter file is left alone.
   */
  static async cutBack(path: string, bytes: number): Promise<void> {
    // A file that cannot be opened (none, or a symlink: O_NOFOLLOW) is left alone.
    const handle = await open(path, constants.O_RDWR | constants.O_NOFOLLOW).catch(() => undefined);
    if (!handle) return;
    try {
      const info = await handle.stat();
      if (info.isFile() && info.size > bytes) await handle.truncate(bytes);
    } catch (err) {
      throw new WriteFailedError(path, 'the failures file', err, { resumable: true });
    } finally {
      await handle.close();
    }
  }

  /** `ordinal`: the record's place in read order, so flush() can hold back later ones. */
  append(line: FailureLine, ordinal = 0): void {
    this.buffer.push({ text: `${failureLineJson(line)}\n`, ordinal });
  }

  /**
   * Makes the appended lines of records up to `through` (in read order) durable: written and
   * fsync'd. Lines of later records stay buffered (default: every line).
   */
  flush(through = Infinity): Promise<void> {
    // Serialised: two overlapping flushes must not interleave their writes.
    const next = this.chain.then(() => this.writeOut(through));
    this.chain = next.catch(() => {});
    return next;
  }

  private async writeOut(through: number): Promise<void> {
    if (this.buffer.length === 0) return;
    const ready = this.buffer.filter((b) => b.ordinal <= through);
    if (ready.length === 0) return;
    this.buffer = this.buffer.filter((b) => b.ordinal > through);
    const text = ready.map((b) => b.text).join('');
    try {
      if (!this.handle) await this.openFile();
      const { bytesWritten } = await this.handle!.write(text);
      await this.handle!.sync();
      if (this.size !== undefined) this.size += bytesWritten;
    } catch (err) {
      await this.removeIfEmpty();
      throw new WriteFailedError(this.path, 'the failures file', err, {
        resumable: this.o.resumable === true,
        hints: [
          this.o.resumable
            ? 'Make room (or name another file with --failures), then run the same command again to continue.'
            : 'Make room, or name another file with --failures.',
        ],
      });
    }
    this.durable += ready.length;
  }

  private async openFile(): Promise<void> {
    const flags =
      constants.O_RDWR |
      constants.O_APPEND |
      constants.O_CREAT |
      constants.O_NOFOLLOW |
      (this.o.unique ? constants.O_EXCL : 0);
    const existed = (await lstat(this.path).catch(() => undefined)) !== undefined;
    this.handle = await open(this.path, flags, 0o600);
    this.created = !existed;
    // A run killed mid-write may have left a partial last line: start ours on a fresh line.
    const info = await this.handle.stat();
    this.size = info.isFile() ? info.size : undefined;
    if (info.isFile() && info.size > 0 && !(await endsWithNewline(this.handle, info.size))) {
      await this.handle.write('\n');
      this.size = info.size + 1;
    }
  }

  private async removeIfEmpty(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    try {
      const info = await handle?.stat();
      await handle?.close();
      if (this.created && info?.isFile() && info.size === 0) await rm(this.path, { force: true });
    } catch {
      // Best effort: the error being reported matters more.
    }
  }

  /** Flushes up to `through` and drops what is left (a resume records those again). */
  async close(through = Infinity): Promise<void> {
    try {
      await this.flush(through);
    } finally {
      this.buffer = [];
      await this.handle?.close();
      this.handle = undefined;
    }
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
