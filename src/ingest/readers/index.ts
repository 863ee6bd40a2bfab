import { constants } from 'node:fs';
import { access, open, stat, type FileHandle } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import { isGzip, isZipName } from '../format.js';
import {
  findFormat,
  formatFromName,
  formatSpec,
  refineBytes,
  refineFormat,
  sniffFormat,
  unknownFormatError,
} from '../formats/index.js';
import type { FormatReadContext } from '../formats/spec.js';
import type { InputFormat, ReadPosition, RecordBatch } from '../source-record.js';
import { mapBatches, parseError } from './common.js';
import { gunzipped } from './gunzip.js';
import type { PrefixHash } from './prefix-hash.js';
import type { EntriesEvent, EntryContext } from './zip.js';

export { inputIdentity, type InputIdentity } from './identity.js';
export { PrefixHash, type ConsumedBytes } from './prefix-hash.js';

/** What to read and how; `createdAt`, `channels` and `includePrivate` go to the format reader. */
export interface ReadOptions extends Pick<
  FormatReadContext,
  'createdAt' | 'channels' | 'includePrivate'
> {
  /** Forces the format (needed or sniffed for stdin; files go by extension otherwise). */
  format?: InputFormat;
  /** Where '-' reads from (process.stdin by default). */
  stdin?: NodeJS.ReadableStream;
  /**
   * Resume: records that start on this line or before are not yielded,
   * and are not decoded/parsed where the format allows (JSON Lines, JSON array; CSV rows are
   * still parsed for their quoting but not built). Because record lines strictly increase,
   * skipping "line <= watermark line" skips exactly the records the watermark covers.
   */
  startAfterLine?: number;
  /**
   * Resume: open the input at this position instead of its start (a plain JSON Lines file
   * only; gzip and other formats are read from the start, then skipped up to startAfterLine).
   */
  startAt?: ReadPosition;
  /**
   * A file input: every byte read from it is added to this running hash, so a
   * checkpoint can record which bytes its records came from (see PrefixHash).
   */
  prefixHash?: PrefixHash;
  /** Told which entries of an archive are read and which are not, and why (zip.ts). */
  onEntries?: (e: EntriesEvent) => void;
  /**
   * Told when the input has been read to its end, with how many records it gave (0: empty) and
   * the number of the last line it reached (lines skipped on a resume included).
   */
  onInputEnd?: (e: { source: string; records: number; lines: number }) => void;
  /** Inputs found in a folder given: each one's path inside that folder (`/`-separated). */
  entryNames?: ReadonlyMap<string, string>;
  /** Told of what a reader noticed that is not a failure (e.g. a time taken from the file). */
  onWarning?: FormatReadContext['warn'];
}

/** Bytes read ahead to sniff gzip and (for stdin) the format. */
const PEEK_BYTES = 64;
const READ_CHUNK = 256 * 1024;

/**
 * Streams the records of one input (a file, or '-' for stdin) as arrays (one per chunk read,
 * never empty). The file is read lazily, pulled by the consumer, so a slow sender slows the
 * reading and memory stays flat whatever the file size. A missing or unreadable file is a
 * UsageError naming it (from the first next()).
 *
 * Arrays rather than single records: every promise hop on the per-record path costs CPU on
 * million-record files.
 */
export async function* readRecordBatches(
  input: string,
  opts: ReadOptions = {},
): AsyncGenerator<RecordBatch, void> {
  const source = input === '-' ? 'stdin' : input;
  const it = await openInput(input, opts);
  let lastLine = 0;
  let records = 0;
  try {
    const lines = yield* mapBatches(it, (batch) => {
      lastLine = batch[batch.length - 1]?.line ?? lastLine;
      records += batch.length;
      return batch;
    });
    opts.onInputEnd?.({ source, records, lines: lines ?? lastLine });
  } catch (err) {
    if (!isZlibError(err)) throw err;
    // Corrupt or truncated gzip: what was read before stays read; the rest is one error.
    const message = `corrupt or truncated gzip data: ${(err as Error).message}`;
    yield [parseError(source, lastLine + 1, message)];
  }
}

function isZlibError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  return (
    code.startsWith('Z_') || /incorrect header check|unexpected end of file/i.test(String(err))
  );
}

/**
 * Where a plain file of a seekable format (JSON Lines) is opened (its start, or `startAt` on a
 * resume), so the reader can report positions to seek to; undefined for pipes, gzip and the
 * other formats. Reads the
 * gzip magic with a positional read, which leaves the handle's own position alone.
 */
async function seekableFrom(
  fh: FileHandle,
  format: InputFormat | undefined,
  startAt: ReadPosition | undefined,
): Promise<ReadPosition | undefined> {
  if (!findFormat(format)?.seekable || !(await fh.stat()).isFile()) return undefined;
  const magic = Buffer.alloc(2);
  const { bytesRead } = await fh.read(magic, 0, 2, 0);
  if (isGzip(magic.subarray(0, bytesRead))) return undefined;
  return startAt ?? { line: 0, byte: 0 };
}

/** Opens one input (file or '-') and returns the record iterator of its format. */
async function openInput(
  input: string,
  opts: ReadOptions,
): Promise<AsyncIterator<RecordBatch, number | undefined>> {
  const { startAfterLine = 0, startAt, prefixHash } = opts;
  const isStdin = input === '-';
  const source = isStdin ? 'stdin' : input;
  let bytes: AsyncIterable<Buffer>;
  let from: ReadPosition | undefined;
  let modifiedAt: Date | undefined;
  if (isStdin) {
    bytes = (opts.stdin ?? process.stdin) as AsyncIterable<Buffer>;
  } else if (isZipName(input)) {
    // An archive: the entries a format claims, one after the other (zip.ts, which loads yauzl).
    return (await import('./zip.js')).readZip(input, {
      startAfterLine,
      format: opts.format,
      onEntries: opts.onEntries,
      context: contextOf(opts),
    });
  } else {
    // Opened once and read from that one handle: a FIFO or /dev/stdin gives its data once.
    const fh = await openReadable(input);
    modifiedAt = (await fh.stat()).mtime;
    from = await seekableFrom(fh, opts.format ?? formatFromName(input), startAt);
    const stream = fh.createReadStream({
      highWaterMark: READ_CHUNK,
      ...(from ? { start: from.byte } : {}),
    }) as AsyncIterable<Buffer>;
    bytes = prefixHash ? hashing(stream, prefixHash, from?.byte ?? 0) : stream;
  }
  return recordsOfBytes(bytes, {
    source,
    format: opts.format ?? (isStdin ? undefined : formatFromName(input)),
    refine: opts.format === undefined,
    ...(isStdin ? {} : { unnamed: input }),
    startAfterLine,
    from,
    modifiedAt,
    ...(opts.entryNames?.has(input) ? { name: opts.entryNames.get(input)! } : {}),
    ...contextOf(opts),
  });
}

/** What every reader of the run is told besides where it reads (--created-at, --channels…). */
function contextOf(o: ReadOptions): EntryContext {
  const { createdAt, onWarning: warn, channels, includePrivate } = o;
  return { createdAt, warn, channels, includePrivate };
}

/**
 * The records of one input's bytes: gzip looked through (by its magic, whatever the name
 * says), the format sniffed when none is known (stdin) and refined by content unless told
 * (`refine`: a `.json` that is a ChatGPT export), then read by the format's registry entry.
 */
export async function recordsOfBytes(
  bytes: AsyncIterable<Buffer>,
  o: FormatReadContext & {
    /** Known from the name or --format; undefined: sniffed from the first bytes. */
    format: InputFormat | undefined;
    refine: boolean;
    /** A name to put in the "cannot tell the format" error instead of sniffing. */
    unnamed?: string;
  },
): Promise<AsyncIterator<RecordBatch, number | undefined>> {
  const { format: known, refine, unnamed, ...context } = o;
  const { source, from } = context;
  // Peek at the first bytes: gzip magic (whatever the name says; a file already found plain
  // may be opened mid-way) and, when the format is not known, the format.
  const first = await peek(bytes);
  let stream: AsyncIterable<Buffer> = prepend(first.head, first.rest);
  const gzip = !from && isGzip(first.head);
  if (gzip) stream = gunzipped(stream);
  let format = known;
  if (format === undefined) {
    if (unnamed !== undefined) throw unknownFormatError(unnamed);
    const plain = await peek(stream);
    stream = prepend(plain.head, plain.rest);
    format = sniffFormat(plain.head);
  }
  // A read error (corrupt or cut gzip) ends the bytes where it happened: the reader first
  // reports what it holds (a record cut off there fails with its partial text), then the
  // error is raised.
  const stop: { error?: unknown; line: number } = { line: 1 };
  let until: AsyncIterable<Buffer> = endAtError(stream, stop, gzip);
  // A more specific kind of the format (a ChatGPT export is a JSON array) is told by content,
  // unless --format named one.
  const want = refine ? refineBytes(format) : 0;
  if (want > 0) {
    const head = await peek(until, want);
    until = prepend(head.head, head.rest);
    format = refineFormat(format, head.head);
  }
  const spec = formatSpec(format);
  const records = await spec.read(until, {
    ...context,
    startAfterLine: Math.max(context.startAfterLine, from?.line ?? 0),
    from: spec.seekable ? from : undefined,
  });
  return thenRaise(records, stop, source)[Symbol.asyncIterator]();
}

/**
 * The format of bytes named as `base` once their content is looked at (gzip looked through):
 * `base`, or a format that refines it (a ChatGPT export for a `.json`). Reads only the head.
 */
export async function refinedFormatOf(
  bytes: AsyncIterable<Buffer>,
  base: InputFormat,
): Promise<InputFormat> {
  const want = refineBytes(base);
  if (want === 0) return base;
  const first = await peek(bytes);
  let stream: AsyncIterable<Buffer> = prepend(first.head, first.rest);
  if (isGzip(first.head)) stream = gunzipped(stream);
  const stop: { error?: unknown; line: number } = { line: 1 };
  const head = await peek(endAtError(stream, stop, false), want);
  await head.rest.return?.();
  return refineFormat(base, head.head);
}

/** The bytes of a file read from offset `start`, each chunk added to `hash` as it passes. */
async function* hashing(
  bytes: AsyncIterable<Buffer>,
  hash: PrefixHash,
  start: number,
): AsyncGenerator<Buffer> {
  let at = start;
  for await (const chunk of bytes) {
    hash.update(chunk, at);
    at += chunk.length;
    yield chunk;
  }
}

/** The bytes until a read error, which is kept with the line it happened on (counted for gzip). */
async function* endAtError(
  bytes: AsyncIterable<Buffer>,
  stop: { error?: unknown; line: number },
  countLines: boolean,
): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of bytes) {
      if (countLines)
        for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) stop.line += 1;
      yield chunk;
    }
  } catch (err) {
    stop.error = err;
  }
}

/**
 * The records, then the read error: corrupt gzip as a failure at the line it cut, else thrown.
 * Returns the last line the format reader reached.
 */
async function* thenRaise(
  items: AsyncGenerator<RecordBatch, number | void>,
  stop: { error?: unknown; line: number },
  source: string,
): AsyncGenerator<RecordBatch, number | undefined> {
  let last = 0;
  const end = yield* mapBatches(items, (batch) => {
    last = batch[batch.length - 1]?.line ?? last;
    return batch;
  });
  const lines = typeof end === 'number' ? end : undefined;
  if (stop.error === undefined) return lines;
  if (!isZlibError(stop.error)) throw stop.error;
  yield [
    parseError(
      source,
      // Never before a record already given (CSV also counts CR as a line break).
      Math.max(stop.line, last),
      `corrupt or truncated gzip data: ${(stop.error as Error).message}; what follows cannot be read`,
    ),
  ];
  return lines;
}

/**
 * Fails with a usage error naming the file when it cannot be read as an input. Never opens it:
 * opening a FIFO waits for a writer, and closing it again loses what the writer sent.
 */
export async function assertReadable(path: string): Promise<void> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new UsageError(`${path} is a directory, not an input file`);
    await access(path, constants.R_OK);
  } catch (err) {
    throw readError(path, err);
  }
}

/** Opens an input for reading, once; a directory or unreadable file is a usage error. */
async function openReadable(path: string): Promise<FileHandle> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    if ((await fh.stat()).isDirectory())
      throw new UsageError(`${path} is a directory, not an input file`);
    return fh;
  } catch (err) {
    await fh?.close();
    throw readError(path, err);
  }
}

/** What a file-system error code says of an input that cannot be read. */
const WHY_UNREADABLE = new Map([
  ['ENOENT', 'no such file'],
  ['EACCES', 'permission denied'],
  ['EISDIR', 'it is a directory, not an input file'],
]);

function readError(path: string, err: unknown): UsageError {
  if (err instanceof UsageError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const why = WHY_UNREADABLE.get(code ?? '') ?? String(code ?? err);
  return new UsageError(`cannot read ${path}: ${why}`);
}

async function peek(
  source: AsyncIterable<Buffer>,
  bytes = PEEK_BYTES,
): Promise<{ head: Buffer; rest: AsyncIterator<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  while (size < bytes) {
    const next = await it.next();
    if (next.done) break;
    const chunk = toBuffer(next.value);
    parts.push(chunk);
    size += chunk.length;
  }
  return { head: parts.length === 1 ? parts[0]! : Buffer.concat(parts), rest: it };
}

function toBuffer(v: Buffer | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v) : v;
}

async function* prepend(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield toBuffer(next.value);
    }
  } finally {
    // A reader that stops early (a resume that is done, a stop) ends the source too, which
    // closes the input's file handle now rather than at garbage collection.
    await rest.return?.();
  }
}
