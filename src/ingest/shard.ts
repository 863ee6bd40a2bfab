import { createHash } from 'node:crypto';
import { normalize } from 'node:path';
import { UsageError } from '../errors.js';
import { hashDocumentId } from './document-id.js';
import type { MapResult } from './mapper.js';

/** What a shard splits: the records of every input, or whole input files. */
export type ShardBy = 'record' | 'file';
export const SHARD_BY: readonly ShardBy[] = ['record', 'file'];

/**
 * One of `count` shards of a run, numbered from 0 like Kubernetes' JOB_COMPLETION_INDEX, so
 * `--shard 0/8` … `--shard 7/8` cover everything and shard i takes what hashes to i mod 8.
 */
export interface Shard {
  index: number;
  count: number;
  by: ShardBy;
}

/** The largest number of shards: far more machines than one key's rate limit can feed. */
const MAX_SHARDS = 10_000;

/** The environment variable an Indexed Job sets to the pod's index (0-based). */
export const JOB_INDEX_VARIABLE = 'JOB_COMPLETION_INDEX';

const WHOLE = /^\d+$/;

function shardCount(raw: string, flag: string): number {
  const n = Number(raw);
  if (!WHOLE.test(raw) || n < 1 || n > MAX_SHARDS) {
    throw new UsageError(`${flag} must be a whole number from 1 to ${MAX_SHARDS} (got "${raw}")`);
  }
  return n;
}

function shardIndex(raw: string, count: number, where: string): number {
  const i = Number(raw);
  if (!WHOLE.test(raw) || i >= count) {
    throw new UsageError(
      `${where}: the shard index must be a whole number from 0 to ${count - 1} ` +
        `(shards are numbered from 0, like Kubernetes' ${JOB_INDEX_VARIABLE}) (got "${raw}")`,
    );
  }
  return i;
}

/** Parses `--shard i/n`, e.g. `2/8`: shard 2 of 8, numbered from 0. */
export function parseShardSpec(raw: string): { index: number; count: number } {
  const m = /^\s*(\S+?)\s*\/\s*(\S+)\s*$/.exec(raw);
  if (!m) throw new UsageError(`--shard must be i/n, e.g. 0/8 (got "${raw}")`);
  const count = shardCount(m[2]!, '--shard n');
  return { index: shardIndex(m[1]!, count, `--shard ${raw}`), count };
}

/** Parses `--shards N`. */
export function parseShardCount(raw: string): number {
  return shardCount(raw.trim(), '--shards');
}

/**
 * The shard of this run from `--shard i/n`, or from `--shards N` with the index in
 * JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it in each pod, so the manifest needs no
 * shell). Undefined when neither is given: the run is not sharded.
 */
export function resolveShard(
  o: { shard?: { index: number; count: number }; shards?: number; by?: ShardBy },
  env: NodeJS.ProcessEnv = process.env,
): Shard | undefined {
  const by = o.by ?? 'record';
  if (o.shard) {
    if (o.shards !== undefined && o.shards !== o.shard.count) {
      throw new UsageError(
        `--shard ${o.shard.index}/${o.shard.count} and --shards ${o.shards} disagree on the number of shards`,
      );
    }
    return { ...o.shard, by };
  }
  if (o.shards === undefined) {
    if (o.by !== undefined) {
      throw new UsageError(
        `--shard-by needs --shard i/n, or --shards N with ${JOB_INDEX_VARIABLE}`,
      );
    }
    return undefined;
  }
  const raw = env[JOB_INDEX_VARIABLE];
  if (raw === undefined || raw.trim() === '') {
    throw new UsageError(
      `--shards ${o.shards} needs the shard index: give --shard i/${o.shards}, or set ${JOB_INDEX_VARIABLE} ` +
        `(a Kubernetes Indexed Job sets it)`,
    );
  }
  return { index: shardIndex(raw.trim(), o.shards, JOB_INDEX_VARIABLE), count: o.shards, by };
}

/** `shard-2-of-8`: the part of a shard's state, lock and failures file names that tells them apart. */
export function shardTag(shard: Pick<Shard, 'index' | 'count'>): string {
  return `shard-${shard.index}-of-${shard.count}`;
}

/** `2/8`, as the flag takes it. */
export function shardLabel(shard: Pick<Shard, 'index' | 'count'>): string {
  return `${shard.index}/${shard.count}`;
}

/**
 * The shard a key belongs to: the first 4 bytes of sha256(key) as a big-endian number, mod
 * `count`. The same on every machine and in every version, so a shard re-run or resumed
 * anywhere takes exactly the records it took before.
 */
export function shardOf(key: string, count: number): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % count;
}

/**
 * Whether a mapped record belongs to `shard`: its document_id decides. A record sent without
 * one (`--id-from none`) is placed by the id it would have had; a record that failed to map
 * has no id, so its place in the input (the same for every shard reading it) decides, and its
 * failure is recorded by exactly one shard.
 */
export function ownsRecord(shard: Shard, m: MapResult, ordinal: number): boolean {
  if (shard.count === 1) return true;
  const key = m.ok ? (m.request.document_id ?? hashDocumentId(m.request)) : `record:${ordinal}`;
  return shardOf(key, shard.count) === shard.index;
}

/**
 * The inputs of `shard` when whole files are split (`--shard-by file`): each file goes to the
 * shard its path (as listed, normalised) hashes to, whatever the order or the other names in
 * the list. stdin cannot be split that way.
 */
export function filesOfShard(inputs: string[], shard: Shard): string[] {
  if (inputs.includes('-')) {
    throw new UsageError('--shard-by file splits input files; stdin (-) cannot be one of them');
  }
  return inputs.filter((f) => fileShard(f, shard.count) === shard.index);
}

/** The shard an input file belongs to when whole files are split: by its path, normalised. */
export function fileShard(path: string, count: number): number {
  return shardOf(`file:${normalize(path)}`, count);
}

/**
 * A failures file named with `--failures` is written by every shard: each gets its own,
 * `failed.shard-2-of-8.jsonl` for `failed.jsonl`.
 */
export function shardFailuresPath(path: string, shard: Shard | undefined): string {
  if (!shard) return path;
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  const dot = path.lastIndexOf('.');
  const tag = shardTag(shard);
  return dot > slash + 1 ? `${path.slice(0, dot)}.${tag}${path.slice(dot)}` : `${path}.${tag}`;
}
