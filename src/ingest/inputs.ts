import type { Clock } from '../clock.js';
import { hashShape, ingestStateFile, resumeOrStart, type IngestState } from './checkpointer.js';
import {
  donePathFor,
  doneMatches,
  peerDonePaths,
  readDone,
  watchPeerDone,
  writeDone,
  type DoneRecord,
} from './done-file.js';
import { FailuresFile } from './failures-file.js';
import { acquireLock, lockPathFor } from './lock.js';
import { createMapper } from './mapper.js';
import { qualityWarnings, type QualityWarning } from './quality.js';
import { UsageError } from '../errors.js';
import { requestShape, type IngestRunOptions, type RecordsState } from './options.js';
import { checkDocumentField } from './document-check.js';
import { isZipName } from './format.js';
import { findFormat, formatFromName, isTabular, unknownFormatError } from './formats/index.js';
import { inputIdentity, readRecordBatches, PrefixHash, type ReadOptions } from './readers/index.js';
import { shardFailuresPath, shardTag } from './shard.js';
import { inputFiles, refuseSymlink, type InputFiles } from './run-files.js';
import type { RecordBatch, SourceRecord } from './source-record.js';

/** One thing to read: an input file, stdin, or records from elsewhere. */
export interface Unit {
  source: string;
  records: AsyncIterable<RecordBatch>;
  failuresPath: string;
  /** A fresh run starts a fresh default failures file; a resume appends to it. */
  discardOldFailures: boolean;
  /** The failures file is named for this run alone: created, never appended to. */
  uniqueFailures: boolean;
  index: number;
  count: number;
  /** Reading starts after `records` records (lines up to `line`); the first `settled` are done. */
  resume: { records: number; line: number; settled: number; watermarkLine: number };
  /** The saved state, and `prefix`: the running hash of the bytes read, fed by the reader. */
  checkpoint?: RecordsState & { prefix: PrefixHash };
  /** Estimated records (line-based plain files), for progress. */
  estimate?: number;
  /** A dry run of a regular file: its path (what the ledger may remember of it: ledger/finished.ts). */
  dryRunPath?: string;
  /** Set when the input's files are kept in the user's state directory. */
  elsewhere?: InputFiles['elsewhere'];
  /** What the quality checks found in the first records (quality.ts). */
  quality?: QualityWarning[];
}

/** `--strict`: the quality warnings of an input stop the run before it sends anything. */
function strictError(warnings: QualityWarning[]): UsageError {
  const w = warnings[0]!;
  return new UsageError(
    `${w.source}: ${w.message} (e.g. line ${w.example.line}: ${JSON.stringify(w.example.text)}); --strict sends nothing`,
    {
      hints: [
        ...warnings.slice(1).map((x) => `also: ${x.message}`),
        ...warnings.map((x) => x.hint),
      ],
    },
  );
}

const FROM_START: Unit['resume'] = { records: 0, line: 0, settled: 0, watermarkLine: 0 };

/** Where a saved state resumes (a state of an older version: reading from the start). */
function resumeOf(state: IngestState): Unit['resume'] {
  const at = state.resume_from ?? { records: 0, line: 0 };
  const { settled_records: settled, watermark_line: watermarkLine } = state;
  return { records: at.records, line: at.line, settled, watermarkLine };
}

/**
 * Records from elsewhere (migrate), as one-record arrays: no lock; a state file only when the
 * caller keeps one (recordsState), which then resumes like an input's.
 */
export function recordsUnit(opts: IngestRunOptions, records: AsyncIterable<SourceRecord>): Unit {
  const saved = opts.recordsState;
  return {
    source: opts.recordsName ?? 'records',
    records: (async function* () {
      for await (const rec of records) yield [rec];
    })(),
    failuresPath: saved?.state.failures_file ?? opts.failuresPath ?? 'synap-ingest.failures.jsonl',
    discardOldFailures: false,
    uniqueFailures: false,
    index: 0,
    count: 1,
    resume: saved ? resumeOf(saved.state) : FROM_START,
    checkpoint: saved && { ...saved, prefix: PrefixHash.empty() },
  };
}

/**
 * Opens one input and hands it to `body`. stdin or a pipe (they cannot be read again) and a
 * dry run (it changes nothing) are read from the start with nothing saved. A file is locked
 * against a second run and resumed from its saved state, once that state is checked against
 * the input (size, modification time, the bytes already read): the reader skips the settled
 * prefix (seeking past it in a plain JSON Lines file) instead of reading it again. Before
 * anything is locked or sent, an input whose format cannot be told is refused, and the first
 * records are checked for a document (a UsageError, exit 2, when none has one). Where the
 * state, lock and failures files go is decided in run-files.ts.
 * A shard's input whose done file matches the input and the options is finished already: it
 * is passed over (`onDone`) without being read.
 */
export async function withInput(
  o: {
    opts: IngestRunOptions;
    read: ReadOptions;
    clock: Clock;
    inputs: Set<string>;
    /** A shard's input that its done file says is finished: nothing is read or sent. */
    onDone?: (input: string, donePath: string, done: DoneRecord) => void;
    /**
     * A record shard's last input: called with how many of the other shards have finished
     * it (their done files), each time more have, while it is sent.
     */
    onPeersFinished?: (finished: number) => void;
  },
  input: string,
  place: { index: number; count: number },
  body: (unit: Unit) => Promise<void>,
): Promise<void> {
  const { opts, clock } = o;
  const source = input === '-' ? 'stdin' : input;
  const format = input === '-' ? opts.format : (opts.format ?? formatFromName(input));
  if (input !== '-' && format === undefined && !isZipName(input)) throw unknownFormatError(input);
  const shard = opts.shard;
  const files = await inputFiles(input, {
    now: clock.now(),
    inputs: o.inputs,
    tag: shard?.by === 'record' ? shardTag(shard) : undefined,
    folder: opts.folderOf?.get(input),
  });
  const explicitFailures =
    opts.failuresPath !== undefined ? shardFailuresPath(opts.failuresPath, shard) : undefined;
  const defaultFailures = explicitFailures === undefined;
  const quality: QualityWarning[] = [];
  const inspect = (head: SourceRecord[]) => {
    quality.push(...qualityWarnings(head, createMapper(opts.map), source, opts.map.instance));
    if (opts.strict && quality.length > 0) throw strictError(quality);
  };
  const checked = (read: ReadOptions) =>
    checkDocumentField(
      readRecordBatches(input, read),
      opts.map.map ?? {},
      source,
      opts.map.instance,
      inspect,
      isTabular(format),
    );
  if (!files.resumable || opts.dryRun) {
    const failuresPath = explicitFailures ?? files.failures;
    if (!opts.dryRun) await refuseSymlink(failuresPath);
    return body({
      source,
      records: await checked(o.read),
      failuresPath,
      discardOldFailures: defaultFailures && !files.uniqueFailures,
      uniqueFailures: defaultFailures && files.uniqueFailures,
      ...place,
      resume: FROM_START,
      quality,
      elsewhere: files.elsewhere,
      dryRunPath: opts.dryRun && files.resumable ? input : undefined,
    });
  }
  const identity = await inputIdentity(input);
  const lock = await acquireLock(lockPathFor(files.base!), {
    profile: opts.profile,
    wait: opts.waitLock === true,
    clock,
    signal: opts.signal,
  });
  let peers: { stop: () => Promise<void> } | undefined;
  try {
    const file = ingestStateFile(files.base!);
    const shape = requestShape(opts);
    const donePath = shard ? donePathFor(files.base!) : undefined;
    if (donePath && !opts.restart && !(await file.read())) {
      const done = await readDone(donePath);
      if (done && doneMatches(done, identity, hashShape(shape)))
        return o.onDone?.(input, donePath, done);
    }
    const from = await resumeOrStart(file, identity, shape, {
      restart: opts.restart === true,
      failuresPath: explicitFailures ?? files.failures,
      clock,
    });
    const { state, prefix, resumed } = from;
    // The run's other shards are done when they have finished its last input: from then on
    // their share of the key is free (the limiter's peersFinished).
    if (shard && o.onPeersFinished && place.index === place.count - 1) {
      peers = watchPeerDone({
        paths: peerDonePaths(files.base!, shard),
        shard,
        matches: (d) => doneMatches(d, identity, hashShape(shape)),
        clock,
        onFinished: o.onPeersFinished,
      });
    }
    // A resume goes on writing where the interrupted run wrote its failures.
    const failuresPath =
      explicitFailures ?? (resumed ? (state.failures_file ?? files.failures) : files.failures);
    state.failures_file = failuresPath;
    await refuseSymlink(failuresPath);
    if (resumed && defaultFailures && state.failures_bytes !== undefined) {
      await FailuresFile.cutBack(failuresPath, state.failures_bytes);
    }
    if (!defaultFailures) delete state.failures_bytes;
    await body({
      source: input,
      records: await checked({
        ...o.read,
        startAfterLine: state.resume_from?.line ?? 0,
        startAt: state.resume_from?.seek ?? undefined,
        prefixHash: prefix,
      }),
      failuresPath,
      discardOldFailures: state.settled_records === 0 && defaultFailures && !files.uniqueFailures,
      uniqueFailures: defaultFailures && files.uniqueFailures && !resumed,
      ...place,
      resume: resumeOf(state),
      checkpoint: {
        file,
        state,
        prefix,
        ownsFailures: defaultFailures,
        onComplete:
          donePath && shard
            ? (final: IngestState) => writeDone(donePath, final, shard, clock.now())
            : undefined,
      },
      estimate: await findFormat(format)?.estimate?.(input, identity.size),
      quality,
      elsewhere: files.elsewhere,
    });
  } finally {
    await peers?.stop();
    await lock.release();
  }
}
