import { readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { addCounts, ingestStateFile, noCounts, type Counts } from './checkpointer.js';
import { donePathFor, readDone } from './done-file.js';
import { lockPathFor, pidAlive, readLock } from './lock.js';
import { filesBase } from './run-files.js';
import { fileShard, shardLabel, shardTag, type Shard, type ShardBy } from './shard.js';

/** Where one shard of one input stands, from the files it leaves beside the input. */
interface ShardReportRow extends Counts {
  /** `2/8`. */
  shard: string;
  input: string;
  /**
   * completed: its done file; running: a state file and a lock; stopped: a state file and no
   * lock (or the lock of a process gone): run it again to resume; not started: neither.
   */
  status: 'completed' | 'running' | 'stopped' | 'not started';
  /** Records of the input (every shard's) read through; null when not started. */
  records_through: number | null;
  /** When its state was last saved, or when it finished. */
  updated_at: string | null;
  failures_file: string | null;
  /** The state or done file the row was read from. */
  file: string | null;
}

/** The per-shard summaries of a sharded ingest, merged (`synap ingest --shard-report`). */
export interface ShardReport extends Counts {
  report: 'shards';
  status: 'completed' | 'partial' | 'incomplete';
  exit_code: ExitCode;
  shards: number;
  shard_by: ShardBy;
  inputs: string[];
  /** Rows completed, and rows in all (shards × inputs, or one a file). */
  completed: number;
  total: number;
  failures_files: string[];
  rows: ShardReportRow[];
}

/**
 * What the ingest of `shard` named its files after: where it kept them (run-files.ts), which
 * for a symlink or an input in a directory it cannot write is not beside the input as spelt.
 */
async function baseOf(input: string, shard?: Shard, folder?: string): Promise<string> {
  const tag = shard?.by === 'record' ? shardTag(shard) : undefined;
  try {
    return (await filesBase(input, { tag, folder: folder || undefined })).base;
  } catch {
    // An input that is gone: its files, if any, are where they would be beside it.
    return tag === undefined ? input : `${input}.${tag}`;
  }
}

/** The shard counts found in the state and done files of `input` (`….shard-i-of-n.…`). */
async function shardCountsBeside(input: string, folder?: string): Promise<Set<number>> {
  const base = await baseOf(input, undefined, folder);
  const name = basename(base);
  const found = new Set<number>();
  for (const entry of await readdir(dirname(base)).catch(() => [])) {
    if (!entry.startsWith(`${name}.shard-`)) continue;
    const m = /^\.shard-\d+-of-(\d+)\.synap-(?:state|done)\.json$/.exec(entry.slice(name.length));
    if (m) found.add(Number(m[1]));
  }
  return found;
}

/** The number of shards: given, or found beside the inputs (it must be one number). */
async function resolveCount(
  inputs: string[],
  given: number | undefined,
  folderOf?: ReadonlyMap<string, string>,
): Promise<number> {
  if (given !== undefined) return given;
  const counts = new Set<number>();
  for (const input of inputs)
    for (const n of await shardCountsBeside(input, folderOf?.get(input))) counts.add(n);
  if (counts.size === 1) return [...counts][0]!;
  if (counts.size === 0) {
    throw new UsageError(
      `no shard state or done files beside ${inputs.join(', ')}; give the number of shards with --shards N`,
    );
  }
  throw new UsageError(
    `files of runs with different numbers of shards (${[...counts].sort((a, b) => a - b).join(', ')}) ` +
      `are beside the inputs; say which with --shards N`,
  );
}

async function rowOf(input: string, shard: Shard, folder?: string): Promise<ShardReportRow> {
  const base = await baseOf(input, shard, folder);
  const row: ShardReportRow = {
    shard: shardLabel(shard),
    input,
    status: 'not started',
    ...noCounts(),
    records_through: null,
    updated_at: null,
    failures_file: null,
    file: null,
  };
  const stateFile = ingestStateFile(base);
  const state = await stateFile.read();
  if (state) {
    const holder = await readLock(lockPathFor(base));
    const gone =
      holder === undefined ||
      (holder !== 'unreadable' && holder.host === hostname() && !pidAlive(holder.pid));
    return {
      ...row,
      status: gone ? 'stopped' : 'running',
      // The outcome counts only (a state also counts the records read).
      ...addCounts(noCounts(), state.counts),
      records_through: state.settled_records,
      updated_at: state.updated_at,
      failures_file: state.counts.failed > 0 ? state.failures_file : null,
      file: stateFile.path,
    };
  }
  const donePath = donePathFor(base);
  const done = await readDone(donePath);
  if (!done) return row;
  return {
    ...row,
    status: 'completed',
    ...addCounts(noCounts(), done.counts),
    records_through: done.records_in_input,
    updated_at: done.finished_at,
    failures_file: done.failures_file,
    file: donePath,
  };
}

/**
 * Merges what every shard left beside the inputs: split by record, a row per input and
 * shard; split by file, a row per file (in the shard it belongs to). Exit code 0 when every
 * row is completed without failures, 3 when completed with failures, 5 while any is not.
 */
export async function shardReport(o: {
  inputs: string[];
  /** Inputs found in a folder given: the folder (their files are in the state directory). */
  folderOf?: ReadonlyMap<string, string>;
  count: number | undefined;
  by: ShardBy;
}): Promise<ShardReport> {
  const inputs = o.inputs.filter((i) => i !== '-');
  if (inputs.length === 0) throw new UsageError('--shard-report needs the input files');
  const rows: ShardReportRow[] = [];
  let count: number;
  if (o.by === 'file') {
    if (o.count === undefined)
      throw new UsageError('--shard-report --shard-by file needs --shards N');
    count = o.count;
    for (const input of inputs) {
      const index = fileShard(input, count);
      rows.push(await rowOf(input, { index, count, by: 'file' }, o.folderOf?.get(input)));
    }
  } else {
    count = await resolveCount(inputs, o.count, o.folderOf);
    for (const input of inputs) {
      for (let index = 0; index < count; index++) {
        rows.push(await rowOf(input, { index, count, by: 'record' }, o.folderOf?.get(input)));
      }
    }
  }
  const counts = rows.reduce(addCounts, noCounts());
  const completed = rows.filter((r) => r.status === 'completed').length;
  const failed = counts.failed > 0;
  const all = completed === rows.length;
  return {
    report: 'shards',
    status: !all ? 'incomplete' : failed ? 'partial' : 'completed',
    exit_code: !all ? ExitCode.STOPPED : failed ? ExitCode.PARTIAL : ExitCode.OK,
    shards: count,
    shard_by: o.by,
    inputs,
    completed,
    total: rows.length,
    ...counts,
    failures_files: [...new Set(rows.flatMap((r) => (r.failures_file ? [r.failures_file] : [])))],
    rows,
  };
}
