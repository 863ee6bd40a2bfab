import { stat } from 'node:fs/promises';
import { versionInfo } from '../build-info.js';
import { byteAt } from '../ingest/checkpointer.js';
import { findFormat, formatFromName } from '../ingest/formats/index.js';
import { PrefixHash } from '../ingest/readers/prefix-hash.js';
import type { LedgerView } from './verdict.js';

/**
 * Finished inputs: a run that settled every record of an input as held by the instance with
 * the body it maps to (new and accepted, or unchanged) while no entry of the ledger changed,
 * leaves in the ledger the hash of the bytes it read, the options and the version that mapped
 * them, and the ledger's generation. The next run of an input whose first bytes are those bytes,
 * with the same options and version and the same generation, maps those records to the same
 * bodies and finds every one held: it settles them as unchanged without mapping, hashing or
 * looking up each one. Anything else (an edit, other options, another version, any entry of
 * the instance changed or forgotten since) and the run asks the ledger about every record.
 */

/** What one run knows before reading an input: how many of its first records are held. */
export interface HeldPrefix {
  /** The first `records` records are held unchanged (0: none known). */
  records: number;
  /** Of those, the records that are documents (not empty lines). */
  documents: number;
  /** The ledger's generation before the run asked about any record (undefined: no memory). */
  since: number | undefined;
}

/**
 * The build whose mapping a remembered input was read with: the version, the commit it was
 * built from, and for a build of uncommitted changes its build time (each such build may map
 * differently, so none trusts another's memory).
 */
const MAPPING_VERSION = mappingVersion();

function mappingVersion(): string {
  const { version, build } = versionInfo();
  const commit = build.commit ?? 'unknown';
  return `synap ${version}+${commit}${build.dirty === true ? `+${build.built_at ?? ''}` : ''}`;
}

/**
 * An input as a run reads it: where, how large, the hash of the options it is read with, its
 * modification time when the run began, and the format given with `--format` (else its name's).
 */
export interface InputRead {
  path: string;
  size: number;
  options_hash: string;
  mtime_ms?: number | undefined;
  format?: string | undefined;
}

/** The same, for a dry run (no state): the file's size and time now. */
export async function inputRead(
  path: string,
  optionsHash: string,
  format?: string,
): Promise<InputRead | undefined> {
  const s = await stat(path).catch(() => undefined);
  return s?.isFile()
    ? { path, size: s.size, options_hash: optionsHash, mtime_ms: s.mtimeMs, format }
    : undefined;
}

/**
 * A format whose records each end at a line break (its registry entry's layout: `lines`,
 * `rows`), so that bytes appended after the remembered ones are new records and leave the
 * remembered records as they were (uncompressed only: a gzip member appended may go on with
 * the last line of the one before).
 */
function growsByLines(format: string | undefined): boolean {
  const layout = findFormat(format)?.layout;
  return layout === 'lines' || layout === 'rows';
}

/**
 * What a memory of `input` is kept under besides its bytes: the options hash, and for any
 * other format the file's modification time too. Such a file is one document or a few (a
 * note, a transcript, a mailbox, an export): bytes appended to it change its last record,
 * and a note or transcript without a date of its own is dated by the file's time. Undefined
 * (nothing remembered) when that time is not known.
 */
function memoryKey(input: InputRead): { key: string; grows: boolean } | undefined {
  const grows =
    growsByLines(input.format ?? formatFromName(input.path)) && !/\.gz$/i.test(input.path);
  if (grows) return { key: input.options_hash, grows };
  if (input.mtime_ms === undefined) return undefined;
  return { key: `${input.options_hash}+mtime:${input.mtime_ms}`, grows };
}

/** How many of the input's first records the ledger remembers as held (see above). */
export async function heldPrefix(
  ledger: LedgerView | undefined,
  input: InputRead | undefined,
): Promise<HeldPrefix> {
  if (!ledger?.generation || !ledger.finishedInput || !ledger.recordFinished) {
    return { records: 0, documents: 0, since: undefined };
  }
  const since = ledger.generation();
  if (input === undefined) return { records: 0, documents: 0, since };
  // A memory that cannot be checked (the file gone or unreadable) is none: each record is
  // looked up, and the reader reports what it finds.
  return checkRemembered(ledger, input, since).catch(() => ({ records: 0, documents: 0, since }));
}

async function checkRemembered(
  ledger: LedgerView,
  input: InputRead,
  since: number,
): Promise<HeldPrefix> {
  const memo = ledger.finishedInput?.(input.path);
  const none = { records: 0, documents: 0, since };
  const kept = memoryKey(input);
  if (
    memo === undefined ||
    kept === undefined ||
    memo.generation !== since ||
    memo.options_hash !== kept.key ||
    memo.version !== MAPPING_VERSION ||
    memo.bytes <= 0 ||
    memo.bytes > input.size ||
    (!kept.grows && memo.bytes !== input.size)
  ) {
    return none;
  }
  // Bytes appended after a last line without a line break would continue its record.
  if (memo.bytes < input.size && (await byteAt(input.path, memo.bytes - 1)) !== 0x0a) {
    return none;
  }
  const prefix = await PrefixHash.ofFile(input.path, memo.bytes).catch(() => undefined);
  if (prefix === undefined || prefix.snapshot().sha256 !== memo.sha256) return none;
  return { records: memo.records, documents: memo.documents, since };
}

/**
 * After a run that read the whole input from its start (`prefix`: the bytes it read) and found
 * each of its records (`records.documents` of them not empty) held, or sent them and saw them
 * accepted: remembered, unless an entry of the ledger changed since `since` (recordFinished
 * checks that in its transaction).
 */
export function rememberFinished(
  ledger: LedgerView,
  input: InputRead,
  prefix: PrefixHash,
  records: { records: number; documents: number },
  since: number,
): boolean {
  const consumed = prefix.snapshot();
  const kept = memoryKey(input);
  if (consumed.bytes <= 0 || !ledger.recordFinished || kept === undefined) return false;
  return ledger.recordFinished(
    {
      path: input.path,
      bytes: consumed.bytes,
      sha256: consumed.sha256,
      options_hash: kept.key,
      version: MAPPING_VERSION,
      records: records.records,
      documents: records.documents,
      generation: since,
    },
    since,
  );
}
