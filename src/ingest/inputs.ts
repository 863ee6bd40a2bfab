import type { Clock } from '../clock.js';
import type { StateFile } from '../state-file.js';
import { hashShape, ingestStateFile, resumeOrStart, type IngestState } from './checkpointer.js';
import { estimateRecords } from './estimate.js';
import { donePathFor, doneMatches, readDone, writeDone, type DoneRecord } from './done-file.js';
import { defaultFailuresPath } from './failures-file.js';
import { acquireLock, lockPathFor } from './lock.js';
import { requestShape, type IngestRunOptions } from './options.js';
import { checkDocumentField } from './document-check.js';
import {
  inputIdentity,
  isRegularFile,
  readRecordBatches,
  type ReadOptions,
} from './readers/index.js';
import { shardBase, shardFailuresPath } from './shard.js';
import type { RecordBatch, SourceRecord } from './source-record.js';

/** One thing to read: an input file, stdin, or records from elsewhere. */
export interface Unit {
  source: string;
  records: AsyncIterable<RecordBatch>;
  failuresPath: string;
  /** A fresh run starts a fresh default failures file; a resume appends to it. */
  discardOldFailures: boolean;
  index: number;
  count: number;
  /** Reading starts after `records` records (lines up to `line`); the first `settled` are done. */
  resume: { records: number; line: number; settled: number; watermarkLine: number };
  checkpoint?: {
    file: StateFile<'ingest', IngestState>;
    state: IngestState;
    /** Called with the final state when the input is complete, before the state file goes. */
    onComplete?: (state: IngestState) => Promise<void>;
  };
  /** Estimated records (line-based plain files), for progress. */
  estimate?: number;
}

const FROM_START: Unit['resume'] = { records: 0, line: 0, settled: 0, watermarkLine: 0 };

/** Records from elsewhere (migrate), as one-record arrays: no state file, no lock. */
export function recordsUnit(opts: IngestRunOptions, records: AsyncIterable<SourceRecord>): Unit {
  return {
    source: opts.recordsName ?? 'records',
    records: (async function* () {
      for await (const rec of records) yield [rec];
    })(),
    failuresPath: opts.failuresPath ?? 'synap-ingest.failures.jsonl',
    discardOldFailures: false,
    index: 0,
    count: 1,
    resume: FROM_START,
  };
}

/**
 * Opens one input and hands it to `body`. stdin or a pipe (they cannot be read again) and a
 * dry run (it changes nothing) are read from the start with nothing saved. A file is locked
 * against a second run and resumed from its saved state: the reader skips the settled prefix
 * (seeking past it in a plain JSON Lines file) instead of reading it again. Before anything is
 * sent, the first records are checked for a document (a UsageError, exit 2, when none has one).
 * A shard's input whose done file matches the input and the options is finished already: it
 * is passed over (`onDone`) without being read.
 */
export async function withInput(
  o: {
    opts: IngestRunOptions;
    read: ReadOptions;
    clock: Clock;
    /** A shard's input that its done file says is finished: nothing is read or sent. */
    onDone?: (input: string, donePath: string, done: DoneRecord) => void;
  },
  input: string,
  place: { index: number; count: number },
  body: (unit: Unit) => Promise<void>,
): Promise<void> {
  const { opts, clock } = o;
  const source = input === '-' ? 'stdin' : input;
  // State, lock, failures and done files are named after the input, or after the input and
  // the shard when several shards read it.
  const base = shardBase(input, opts.shard);
  const failuresPath =
    opts.failuresPath !== undefined
      ? shardFailuresPath(opts.failuresPath, opts.shard)
      : defaultFailuresPath(base);
  const checked = (read: ReadOptions) =>
    checkDocumentField(readRecordBatches([input], read), opts.map.map ?? {}, source, opts.map.b2c);
  if (input === '-' || opts.dryRun || !(await isRegularFile(input))) {
    return body({
      source,
      records: await checked(o.read),
      failuresPath,
      discardOldFailures: opts.failuresPath === undefined,
      ...place,
      resume: FROM_START,
    });
  }
  const identity = await inputIdentity(input);
  const lock = await acquireLock(lockPathFor(base), {
    profile: opts.profile,
    wait: opts.waitLock === true,
    clock,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    const file = ingestStateFile(base);
    const shape = requestShape(opts);
    const shard = opts.shard;
    const donePath = shard ? donePathFor(base) : undefined;
    if (donePath && !opts.restart && !(await file.read())) {
      const done = await readDone(donePath);
      if (done && doneMatches(done, identity, hashShape(shape)))
        return o.onDone?.(input, donePath, done);
    }
    const state = await resumeOrStart(file, identity, shape, {
      restart: opts.restart === true,
      failuresPath,
      clock,
    });
    const from = state.resume_from ?? { records: 0, line: 0, seek: null };
    await body({
      source: input,
      records: await checked({
        ...o.read,
        startAfterLine: from.line,
        ...(from.seek ? { startAt: from.seek } : {}),
      }),
      failuresPath,
      discardOldFailures: state.settled_records === 0 && opts.failuresPath === undefined,
      ...place,
      resume: {
        records: from.records,
        line: from.line,
        settled: state.settled_records,
        watermarkLine: state.watermark_line,
      },
      checkpoint: {
        file,
        state,
        ...(donePath && shard
          ? {
              onComplete: (final: IngestState) => writeDone(donePath, final, shard, clock.now()),
            }
          : {}),
      },
      estimate: await estimateRecords(input, identity.size),
    });
  } finally {
    await lock.release();
  }
}
