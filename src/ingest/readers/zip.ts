import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { UsageError } from '../../errors.js';
import { planEntries, type ContainerEntry } from '../containers.js';
import type { InputFormat } from '../formats/index.js';
import type { FormatReadContext } from '../formats/spec.js';
import type { RecordBatch } from '../source-record.js';
import { mapBatches, parseError } from './common.js';
import { recordsOfBytes, refinedFormatOf } from './index.js';

/** Which entries of an archive are read (with their format), ignored or refused. */
export interface EntriesEvent {
  source: string;
  used: { name: string; format: string }[];
  ignored: { name: string; why: string }[];
  refused: { name: string; why: string }[];
}

/** An entry larger than this is refused whatever its ratio. */
export const MAX_ENTRY_BYTES = 64 * 1024 ** 3;
/** Past this size an entry whose bytes grow more than MAX_RATIO times is refused (a zip bomb). */
const RATIO_FROM_BYTES = 64 * 1024 ** 2;
export const MAX_RATIO = 1000;

type ZipEntry = ContainerEntry & { zip: Entry };

/** The reader context an archive's entries share. */
export type EntryContext = Pick<
  FormatReadContext,
  'createdAt' | 'warn' | 'channels' | 'includePrivate'
>;

/**
 * The records of a zip archive's entries, one entry after the other, streamed: the central
 * directory is read first (names and sizes only), then each chosen entry is inflated as its
 * records are pulled, so neither the archive nor an entry is ever held or written to disk.
 * Entries are chosen by containers.ts (planEntries). An entry with an unsafe name (absolute,
 * `..`), an encrypted one, or one that inflates past the size or ratio limits fails alone,
 * naming it; so does one whose data turns out corrupt, longer than its header says (yauzl
 * checks sizes as it inflates) or not matching its CRC-32 (summed here), and one that cannot
 * even be opened to look at its head: the entries around it are read as usual.
 *
 * Records carry `<archive>:<entry>` as their source and their line in that entry. Their
 * `position` counts lines on from one entry to the next (the second entry's line 1 follows
 * the first entry's last line), so positions only grow through the archive, as a resume
 * needs; a refused entry takes one line, and fails as its line 1.
 */
export async function readZip(
  path: string,
  o: {
    startAfterLine: number;
    format?: InputFormat;
    onEntries?: (e: EntriesEvent) => void;
    /** What every entry's reader is told besides its bytes (--created-at, --channels…). */
    context?: EntryContext;
  },
): Promise<AsyncIterator<RecordBatch, number | undefined>> {
  const zip = await openZip(path);
  let plan: Awaited<ReturnType<typeof planEntries<ZipEntry>>>;
  try {
    // Folders are only names on the way to their files.
    const entries = (await zipEntries(zip)).filter(
      (e) => !(e.name.endsWith('/') && e.unsafeName === undefined),
    );
    plan = await planEntries(entries, o.format, refinedFormatOf);
  } catch (err) {
    zip.close();
    throw err instanceof UsageError ? err : notAZip(path, err);
  }
  o.onEntries?.({
    source: path,
    used: plan.items
      .filter((i) => i.refused === undefined)
      .map((i) => ({ name: i.entry.name, format: i.format! })),
    ignored: plan.ignored,
    refused: plan.items
      .filter((i) => i.refused !== undefined)
      .map((i) => ({ name: i.entry.name, why: i.refused! })),
  });
  return entriesRecords(path, zip, plan.items, o.startAfterLine, o.context ?? {})[
    Symbol.asyncIterator
  ]();
}

async function* entriesRecords(
  path: string,
  zip: ZipFile,
  items: { entry: ZipEntry; format: InputFormat | undefined; refused?: string }[],
  startAfterLine: number,
  context: EntryContext,
): AsyncGenerator<RecordBatch, number> {
  let offset = 0;
  try {
    for (const item of items) {
      const source = `${path}:${item.entry.name}`;
      if (item.refused !== undefined || item.format === undefined) {
        offset += 1;
        if (offset > startAfterLine) {
          const rec = parseError(source, 1, `not read: ${item.refused ?? 'no format'}`);
          rec.position = offset;
          yield [rec];
        }
        continue;
      }
      const failed: { error?: unknown } = {};
      const bytes = untilError(await item.entry.open(), failed, item.entry.zip.crc32);
      const it = await recordsOfBytes(bytes, {
        source,
        format: item.format,
        refine: false,
        name: item.entry.name,
        ...entryTime(item.entry.zip),
        ...context,
        startAfterLine: Math.max(0, startAfterLine - offset),
      });
      let last = 0;
      // Ended early by the consumer, mapBatches ends the entry's stream too.
      const lines = yield* mapBatches(it, (batch) => {
        for (const rec of batch) rec.position = rec.line + offset;
        last = batch[batch.length - 1]!.line;
        delete batch.end;
        return batch;
      });
      let entryLines = Math.max(lines ?? 0, last);
      if (failed.error !== undefined) {
        entryLines += 1;
        const rec = parseError(
          source,
          entryLines,
          `the entry could not be read past here: ${(failed.error as Error).message}`,
        );
        rec.position = offset + entryLines;
        yield [rec];
      }
      offset += entryLines;
    }
  } finally {
    zip.close();
  }
  return offset;
}

/**
 * The bytes of an entry until it fails (corrupt data, a size that does not match). yauzl does
 * not check CRC-32s: the bytes are summed here, and an entry read to its end whose sum is not
 * the one the archive's directory gives fails after its records (they were read as they are).
 */
async function* untilError(
  bytes: AsyncIterable<Buffer>,
  failed: { error?: unknown },
  crc: number,
): AsyncGenerator<Buffer> {
  let sum = 0;
  try {
    for await (const chunk of bytes) {
      sum = crc32(chunk, sum);
      yield chunk;
    }
  } catch (err) {
    failed.error = err;
    return;
  }
  if (sum >>> 0 !== crc >>> 0) {
    const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
    failed.error = new Error(
      `its CRC-32 is ${hex(sum)}, not the ${hex(crc)} the archive's directory gives: the archive is damaged (the records before were read as they are)`,
    );
  }
}

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      path,
      // Names are decoded and checked here (an unsafe one fails its entry, not the archive).
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true },
      (err, zip) => (err ? reject(notAZip(path, err)) : resolve(zip)),
    );
  });
}

function notAZip(path: string, err: unknown): UsageError {
  return new UsageError(`cannot read ${path} as a zip archive: ${(err as Error).message}`);
}

/** The central directory's entries (names and sizes; no data is inflated). */
function listEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const out: Entry[] = [];
    zip.on('entry', (e: Entry) => {
      out.push(e);
      zip.readEntry();
    });
    zip.once('end', () => resolve(out));
    zip.once('error', reject);
    zip.readEntry();
  });
}

/** An entry's name as the archive spells it (decoded here: see openZip). */
function nameOf(e: Entry): string {
  const raw = e.fileName as unknown as Buffer;
  return yauzl.getFileNameLowLevel(e.generalPurposeBitFlag, raw, e.extraFields, false);
}

/**
 * Entries whose data overlap another's, each with the name of one it overlaps. In an archive
 * an archiver wrote, every entry's local header and data lie apart; a zip bomb points many
 * directory records at one kernel (or lets one entry's data run over the next one's header)
 * so that each inflates the same bytes again, whatever its own ratio. An entry's data end no
 * earlier than its local header's offset, the header's 30 fixed bytes and its compressed size
 * (its name and extra field only add to that): an entry whose header starts before the
 * furthest such end of the entries before it overlaps that entry.
 */
function overlapping(entries: readonly Entry[]): Map<Entry, string> {
  const out = new Map<Entry, string>();
  const byOffset = [...entries].sort(
    (a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader,
  );
  let furthest: { entry: Entry; end: number } | undefined;
  for (const e of byOffset) {
    const at = e.relativeOffsetOfLocalHeader;
    if (furthest !== undefined && at < furthest.end) {
      if (!out.has(furthest.entry)) out.set(furthest.entry, nameOf(e));
      if (!out.has(e)) out.set(e, nameOf(furthest.entry));
    }
    const end = at + 30 + e.compressedSize;
    if (furthest === undefined || end > furthest.end) furthest = { entry: e, end };
  }
  return out;
}

/** Every entry of the archive as containers.ts sees it, overlapping ones refused. */
async function zipEntries(zip: ZipFile): Promise<ZipEntry[]> {
  const listed = await listEntries(zip);
  const overlaps = overlapping(listed);
  return listed.map((e) => zipEntry(zip, e, overlaps.get(e)));
}

/** An archive entry as containers.ts sees it, with why it must not be read, if it must not. */
function zipEntry(zip: ZipFile, e: Entry, overlaps?: string): ZipEntry {
  const name = nameOf(e);
  const unsafe = yauzl.validateFileName(name) ?? (name.includes('\0') ? 'a NUL byte' : null);
  const refused =
    overlaps !== undefined
      ? `its data overlaps ${overlaps}'s, as a zip bomb's entries do (each would inflate the same bytes again)`
      : refusal(e);
  return {
    name,
    zip: e,
    ...(unsafe !== null
      ? { unsafeName: `unsafe entry name (${unsafe}): it points outside the archive` }
      : {}),
    ...(refused !== undefined ? { refused } : {}),
    open: () =>
      new Promise<AsyncIterable<Buffer>>((resolve, reject) =>
        zip.openReadStream(e, (err, stream: Readable) => (err ? reject(err) : resolve(stream))),
      ),
  };
}

function refusal(e: Entry): string | undefined {
  if (e.isEncrypted()) return 'the entry is encrypted; extract the archive with its password first';
  if (!e.canDecodeFileData())
    return `the entry is compressed with method ${e.compressionMethod}, which cannot be read`;
  const size = e.uncompressedSize;
  if (size > MAX_ENTRY_BYTES)
    return `the entry inflates to ${size} bytes, more than the ${MAX_ENTRY_BYTES} allowed`;
  const ratio = size / Math.max(1, e.compressedSize);
  if (size > RATIO_FROM_BYTES && ratio > MAX_RATIO)
    return `the entry inflates ${Math.round(ratio)} times (${e.compressedSize} to ${size} bytes), more than the ${MAX_RATIO} times a zip bomb is told by`;
  return undefined;
}

/**
 * Every entry of an archive, for a reader that needs the entries around the one it was given
 * (a Slack export's channels.json reads users.json and the day files). `close` ends the handle.
 */
export async function openZipEntries(
  path: string,
): Promise<{ entries: ContainerEntry[]; close: () => void }> {
  const zip = await openZip(path);
  try {
    return { entries: await zipEntries(zip), close: () => zip.close() };
  } catch (err) {
    zip.close();
    throw err instanceof UsageError ? err : notAZip(path, err);
  }
}

/**
 * An entry's own modification time (DOS local time in the archive, read as local time), for
 * sources dated by their file; none when the archive left it zero (before 1980).
 */
function entryTime(e: Entry): { modifiedAt?: Date } {
  const d = e.getLastModDate();
  return Number.isNaN(d.getTime()) || d.getFullYear() < 1980 ? {} : { modifiedAt: d };
}
