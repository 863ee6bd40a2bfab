import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../atomic-write.js';
import type { Clock } from '../clock.js';
import { addCounts, noCounts, type IngestState } from './checkpointer.js';
import type { InputIdentity } from './readers/index.js';
import { shardTag, type Shard } from './shard.js';

/**
 * What a finished shard leaves behind in `<base>.synap-done.json` when its state file goes:
 * which input (identity) and options it finished, and its counts, so `--shard-report` can add
 * the shards up and a shard run again on the same input (a Job retry, the next cron run) ends
 * at once instead of sending everything again to be told it is already there.
 */
export interface DoneRecord {
  version: 1;
  kind: 'synap-ingest-done';
  input: IngestState['input'];
  shard: Shard;
  options_hash: string;
  /** Records of the input read through, every shard's included. */
  records_in_input: number;
  /** This shard's records: accepted, skipped (already stored) and failed. */
  counts: { accepted: number; skipped: number; failed: number; unchanged?: number };
  failures_file: string | null;
  started_at: string;
  finished_at: string;
}

export function donePathFor(base: string): string {
  return `${base}.synap-done.json`;
}

/** Writes the done file of a completed input (atomically: whole or not at all). */
export async function writeDone(
  path: string,
  state: IngestState,
  shard: Shard,
  finishedAt: number,
): Promise<void> {
  const done: DoneRecord = {
    version: 1,
    kind: 'synap-ingest-done',
    input: state.input,
    shard,
    options_hash: state.options_hash,
    records_in_input: state.settled_records,
    counts: addCounts(noCounts(), state.counts),
    failures_file: state.counts.failed > 0 ? state.failures_file : null,
    started_at: state.started_at,
    finished_at: new Date(finishedAt).toISOString(),
  };
  await writeFileAtomic(path, `${JSON.stringify(done, null, 2)}\n`);
}

/** The done file at `path`, or undefined when there is none or it is not one. */
export async function readDone(path: string): Promise<DoneRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const d = JSON.parse(text) as Partial<DoneRecord> | null;
    if (d?.kind !== 'synap-ingest-done' || d.version !== 1 || !d.input || !d.counts) {
      return undefined;
    }
    return d as DoneRecord;
  } catch {
    return undefined;
  }
}

/** True when `done` finished this very input (same size and fingerprint) with these options. */
export function doneMatches(
  done: DoneRecord,
  identity: InputIdentity,
  optionsHash: string,
): boolean {
  return (
    done.input.size === identity.size &&
    done.input.fingerprint === identity.fingerprint &&
    done.options_hash === optionsHash
  );
}

/**
 * The done files the other shards of a record shard leave for the same input: `<input>.shard-
 * j-of-n.synap-done.json` beside this shard's `base` (`<input>.shard-i-of-n`), by shard index.
 * None when the base is not named that way (a name cut to fit, see run-files.ts fitName).
 */
export function peerDonePaths(base: string, shard: Shard): Map<number, string> {
  const paths = new Map<number, string>();
  const tag = shardTag(shard);
  if (shard.by !== 'record' || !base.endsWith(tag)) return paths;
  const stem = base.slice(0, base.length - tag.length);
  for (let j = 0; j < shard.count; j++) {
    if (j !== shard.index)
      paths.set(j, donePathFor(`${stem}${shardTag({ index: j, count: shard.count })}`));
  }
  return paths;
}

/** How often a shard looks at its peers' done files. */
export const PEER_POLL_MS = 1000;

/**
 * Watches the other shards of this input (`paths`, from peerDonePaths) until stop(): each
 * time more of them have a done file for this very input and options (`matches`), calls
 * `onFinished` with how many have. A peer's done file from an earlier run of the same input
 * counts: that peer has nothing left to send. Looks at once, then every PEER_POLL_MS.
 */
export function watchPeerDone(o: {
  paths: Map<number, string>;
  shard: Shard;
  matches: (done: DoneRecord) => boolean;
  clock: Clock;
  onFinished: (finished: number) => void;
}): { stop: () => Promise<void> } {
  const stopped = new AbortController();
  const finished = new Set<number>();
  const look = async () => {
    for (const [j, path] of o.paths) {
      if (finished.has(j)) continue;
      const done = await readDone(path).catch(() => undefined);
      if (
        done &&
        done.shard?.index === j &&
        done.shard.count === o.shard.count &&
        done.shard.by === o.shard.by &&
        o.matches(done)
      ) {
        finished.add(j);
      }
    }
  };
  const loop = (async () => {
    let told = 0;
    while (!stopped.signal.aborted && finished.size < o.paths.size) {
      await look();
      if (stopped.signal.aborted) return;
      if (finished.size > told) {
        told = finished.size;
        o.onFinished(told);
      }
      await o.clock.sleep(PEER_POLL_MS, stopped.signal).catch(() => {});
    }
  })();
  return {
    stop: async () => {
      stopped.abort();
      await loop;
    },
  };
}
