import { rm } from 'node:fs/promises';
import { every, systemClock, type Clock } from '../clock.js';
import { AdaptiveConcurrency } from '../client/concurrency.js';
import { MAX_BATCH_SIZE } from '../client/types.js';
import { PartialResultError, UsageError } from '../errors.js';
import { Batcher } from './batcher.js';
import { addCounts, Checkpointer, hashMapping, RESTART_FROM_START } from './checkpointer.js';
import { NO_FORMAT_CLAIMS } from './containers.js';
import { Dispatcher, type PendingItem } from './dispatcher.js';
import type { DoneRecord } from './done-file.js';
import { FailureRecorder } from './failure-recorder.js';
import { FailuresFile } from './failures-file.js';
import { recordsUnit, withInput, type Unit } from './inputs.js';
import { realInputs } from './run-files.js';
import { createMapper, type MapResult } from './mapper.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  requestShape,
  type IngestRunOptions,
} from './options.js';
import type { ReadOptions } from './readers/index.js';
import type { IngestReporter } from './reporter.js';
import { SettlementTracker } from './settlement.js';
import { ownsRecord, type Shard } from './shard.js';
import { StopController } from './stop-controller.js';
import type { SourceRecord } from './source-record.js';
import type { IngestSummary } from './summary.js';
import { Tally } from './tally.js';
import { pollIngestions } from './wait-poller.js';
import { hashNamedBy, verdictOf, type Verdict } from '../ledger/verdict.js';
import { heldPrefix, inputRead, rememberFinished } from '../ledger/finished.js';

/**
 * A run ended by an error that makes going on pointless (401/403/402/404, a bug): `partial` is
 * the summary so far (state saved), `cause` the error (its message and exit code are the answer).
 */
export class IngestAbortedError extends PartialResultError<IngestSummary> {}

/** The parts of one run, shared by its inputs. */
interface Run {
  opts: IngestRunOptions;
  reporter: IngestReporter;
  clock: Clock;
  stop: StopController;
  tally: Tally;
  gate: AdaptiveConcurrency;
  mapper: ReturnType<typeof createMapper>;
  /** Set when this run sends only its shard's records of each input. */
  shard: Shard | undefined;
  read: ReadOptions;
  /** Real paths of every input of the run: no failures file is written over one. */
  inputs: Set<string>;
  /** The last line the reader reached in an input it read to the end. */
  linesRead: (source: string) => number | undefined;
}

/**
 * Runs an ingest, one input after another, each as reader → mapper → batcher → sender →
 * settlement → reporter; then, with --wait, polls what was accepted. Resolves with the summary
 * (exit code 0, 3, 5 or 130 in it), or rejects with IngestAbortedError when an error ended the
 * run (state still saved).
 */
export async function ingest(
  opts: IngestRunOptions,
  reporter: IngestReporter = {},
): Promise<IngestSummary> {
  const clock = opts.clock ?? systemClock;
  const gate = new AdaptiveConcurrency(Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY));
  const stop = new StopController({
    ...opts,
    clock,
    onStopping: (reason) => reporter.onStopping?.({ reason, inFlightRequests: gate.inFlight() }),
  });
  const tally = new Tally({
    ...opts,
    clock,
    reporter,
    dryRun: opts.dryRun === true,
    keepIngestionIds: opts.wait === true,
    gate,
  });
  const ends = new Map<string, number>();
  const skipped = new Set<string>();
  const read: ReadOptions = {
    format: opts.format,
    stdin: opts.stdin,
    createdAt: opts.createdAt,
    entryNames: opts.entryNames,
    channels: opts.channels,
    includePrivate: opts.includePrivate,
    onWarning: (e) => {
      if (e.code === 'SKIPPED_BINARY' && !skipped.has(e.source)) {
        skipped.add(e.source);
        tally.filesSkipped.binary += 1;
      }
      reporter.onWarning?.(e);
    },
    onEntries: (e) => {
      tally.archives.push(e);
      tally.filesSkipped.no_format += e.ignored.filter((i) => i.why === NO_FORMAT_CLAIMS).length;
      reporter.onEntries?.(e);
    },
    onInputEnd: (e) => {
      ends.set(e.source, e.lines);
      // A file its reader skipped (a binary file among notes) was said so already.
      if (e.records > 0 || skipped.has(e.source)) return;
      const message = `${e.source}: 0 records (the input is empty)`;
      reporter.onWarning?.({ source: e.source, code: 'EMPTY_INPUT', message });
    },
  };
  const inputs = opts.inputs ?? [];
  const run: Run = {
    opts,
    reporter,
    clock,
    stop,
    tally,
    gate,
    mapper: createMapper(opts.map),
    shard: opts.shard?.by === 'record' ? opts.shard : undefined,
    read,
    inputs: new Set(),
    linesRead: (source) => ends.get(source),
  };
  let wait: IngestSummary['wait'];
  // Folders were turned into their files before the run: say which, as for an archive.
  for (const e of opts.containers ?? []) read.onEntries?.(e);
  try {
    run.inputs = await realInputs(inputs);
    if (opts.records) await ingestUnit(run, recordsUnit(opts, opts.records));
    for (let index = 0; index < inputs.length && !stop.halted; index++) {
      const place = { index, count: inputs.length };
      // A shard's input finished by an earlier run: nothing is sent, and the failures of that
      // run still count, so the exit code stays what it was (3 when records failed).
      const onDone = (input: string, donePath: string, done: DoneRecord) => {
        const failed = done.counts.failed > 0 ? `, ${done.counts.failed} record(s) failed` : '';
        const message = `${input}: finished earlier by this shard${failed} (${donePath}); nothing to send (--restart ingests it again)`;
        reporter.onWarning?.({ source: input, code: 'ALREADY_DONE', message });
        tally.failed += done.counts.failed;
        if (done.failures_file) tally.failuresFiles.add(done.failures_file);
      };
      // The other shards' share of the key is this one's as they finish.
      const onPeersFinished = (finished: number) => opts.client.limiter?.peersFinished?.(finished);
      await withInput({ ...run, onDone, onPeersFinished }, inputs[index]!, place, (unit) =>
        ingestUnit(run, unit),
      );
    }
    if (opts.wait && !opts.dryRun && !stop.halted && tally.ingestionIds.length > 0) {
      // --max-duration and a signal bound the wait as they bound the sending.
      wait = await pollIngestions(opts.client, tally.ingestionIds, {
        workers: opts.concurrency ?? DEFAULT_CONCURRENCY,
        clock,
        timeoutMs: opts.waitTimeoutMs,
        // The run's stop during the wait (a signal, --max-duration) is a hurried one.
        signal: stop.hurry,
        onProgress: (e) => reporter.onWaitProgress?.(e),
        onUnreadable: (message) =>
          reporter.onWarning?.({ source: 'wait', code: 'UNREADABLE_STATUS', message }),
      });
    }
  } catch (err) {
    stop.fail(err);
  } finally {
    stop.dispose();
  }
  if (stop.stopError) {
    reporter.onWarning?.({ source: 'run', code: 'STOPPED', message: stop.stopError.message });
  }
  const names = opts.records
    ? [opts.recordsName ?? 'records']
    : inputs.map((i) => (i === '-' ? 'stdin' : i));
  const summary = tally.summary(stop, names, wait);
  if (stop.fatal === undefined) return summary;
  const started = summary.records_read > 0 || summary.resumed_past > 0;
  throw new IngestAbortedError(started ? { ...summary, status: 'aborted' } : undefined, stop.fatal);
}

/** Reads one unit to its end (or a stop), sends it, and leaves its checkpoint. */
async function ingestUnit(run: Run, u: Unit): Promise<void> {
  const { opts, reporter, clock, stop, tally } = run;
  const dryRun = opts.dryRun === true;
  tally.source = u.source;
  for (const w of u.quality ?? []) {
    tally.quality.push(w);
    const message = `${w.source}: ${w.message} (e.g. line ${w.example.line}: ${JSON.stringify(w.example.text)}). ${w.hint}`;
    reporter.onWarning?.({ source: w.source, code: w.code, message });
  }
  tally.estimatedTotal = u.estimate;
  tally.resumedPast += u.resume.records;
  const failures = dryRun
    ? undefined
    : new FailuresFile(u.failuresPath, {
        unique: u.uniqueFailures,
        resumable: u.checkpoint !== undefined,
      });
  const failed = new FailureRecorder({ failures, tally, reporter, stop, clock });
  const tracker = new SettlementTracker(u.resume.records, u.resume.line);
  const checkpointer = new Checkpointer({ tracker, failures, checkpoint: u.checkpoint, clock });
  addCounts(tally.earlier, checkpointer.earlier);
  reporter.onInputStart?.({
    source: u.source,
    index: u.index,
    count: u.count,
    stateFile: u.checkpoint?.file.path ?? null,
    failuresFile: failures ? u.failuresPath : null,
    resumedFrom:
      u.resume.settled > 0 ? { records: u.resume.settled, line: u.resume.watermarkLine } : null,
    estimatedRecords: u.estimate,
    filesIn: u.elsewhere,
  });
  // Records sent that the ledger will hear about, by ordinal, until they settle.
  const held = new Map<number, Extract<Verdict, { bodyHash: string | null }>>();
  // The ledger's memory of this input (ledger/finished.ts): its first `known.records` records
  // are held unchanged. Not for a shard of the records (it sees only some of them).
  const read = u.checkpoint
    ? // A state written before states kept their shape has no memory to match.
      u.checkpoint.state.shape && {
        path: u.checkpoint.state.input.path,
        size: u.checkpoint.state.input.size,
        options_hash: hashMapping(u.checkpoint.state.shape),
        mtime_ms: u.checkpoint.state.input.mtime_ms,
        format: opts.format,
      }
    : u.dryRunPath !== undefined && opts.ledger
      ? await inputRead(u.dryRunPath, hashMapping(requestShape(opts)), opts.format)
      : undefined;
  const known =
    opts.ledger && read && !run.shard
      ? await heldPrefix(opts.ledger, read)
      : { records: 0, documents: 0, since: undefined };
  let emptyRecords = 0;
  // Whether every record of this run so far is held by the instance as it maps (unchanged, or
  // new and accepted): then the input is remembered at its end.
  let allHeld = known.since !== undefined && !dryRun && u.resume.settled === 0;
  const sender = new Dispatcher({
    client: opts.client,
    gate: run.gate,
    clock,
    stop,
    // Settlement: each document's outcome is counted, a failure recorded, the record settled;
    // what the service accepted goes into the ledger, one transaction per batch, before the
    // checkpoint can count it as settled.
    onOutcomes: (batch, outcomes) => {
      const accepted: { documentId: string; bodyHash: string | null }[] = [];
      const refused: { documentId: string; bodyHash: string }[] = [];
      batch.forEach((item, i) => {
        const o = outcomes[i] ?? { kind: 'unsent' as const };
        if (o.kind === 'unsent') return;
        const v = held.get(item.ordinal);
        held.delete(item.ordinal);
        if (!v || o.kind !== 'accepted' || v.kind !== 'new') allHeld = false;
        if (v && settlesInLedger(o.kind, v)) {
          accepted.push({ documentId: v.documentId, bodyHash: v.bodyHash });
          if (o.kind === 'accepted' && v.kind === 'updated') tally.updated += 1;
        } else if (v?.kind === 'updated' && o.kind === 'skipped') {
          // The service kept the body it had: the ledger keeps naming that one, and notes the
          // refused body so that the next run does not send it again.
          tally.keepEarlier(v.documentId);
          if (v.bodyHash !== null) refused.push({ documentId: v.documentId, bodyHash: v.bodyHash });
        }
        tally.count(o, item.request.document_id !== null);
        if (o.kind === 'failed') failed.record(item, o.error, o.correlationId, item.ordinal);
        tracker.settle(item.ordinal, o.kind);
      });
      opts.ledger?.recordMany(accepted);
      opts.ledger?.recordRefused?.(refused);
      tally.progress();
    },
  });
  const ticks = every(clock, 1000, async () => {
    await checkpointer.save().catch((err: unknown) => stop.fail(err));
    tally.progress(true);
  });

  // A fresh run's old failures file (left by an earlier, finished run) goes once the input gives
  // its first records (or turns out empty): an input refused before that leaves it as it was.
  let discard = u.discardOldFailures && !dryRun;
  const discardOld = async () => {
    if (!discard) return;
    discard = false;
    await rm(u.failuresPath, { force: true });
  };

  const batchSize = Math.max(1, Math.min(MAX_BATCH_SIZE, opts.batchSize ?? DEFAULT_BATCH_SIZE));
  const batcher = new Batcher<PendingItem>(batchSize);
  const reader = u.records[Symbol.asyncIterator]();
  let ordinal = u.resume.records;
  let reachedEnd = false;
  try {
    reading: for (;;) {
      // undefined: the run stopped while the reader was reading.
      const next = await stop.race(reader.next());
      reachedEnd = next?.done === true;
      if (next === undefined || next.done) break;
      await discardOld();
      // With a ledger, the records past the resume point are mapped first so that their ids
      // are looked up together (one query per chunk of records instead of one per record).
      const premapped = opts.ledger
        ? premap(run, next.value, ordinal, Math.max(u.resume.settled, known.records))
        : undefined;
      for (const [k, rec] of next.value.entries()) {
        // Records left in the array when the run stops were never counted as read, so the
        // watermark stays below them and a resume reads them again.
        if (stop.halted) break reading;
        ordinal += 1;
        // Where the record is for a resume: its line, or its place in an archive's entries.
        const at = rec.position ?? rec.line;
        if (ordinal <= u.resume.settled) {
          tally.resumedPast += 1;
          tracker.registerSettled(ordinal, at);
          continue;
        }
        if (rec.empty) {
          emptyRecords += 1;
          tally.skippedEmpty += 1;
          tracker.registerSettled(ordinal, at);
          continue;
        }
        if (ordinal <= known.records) {
          // Held as it is, the ledger remembers (same bytes, options, version and entries).
          tally.read += 1;
          tally.unchanged += 1;
          tracker.registerSettled(ordinal, at, 'unchanged');
          continue;
        }
        const m = premapped?.[k] ?? run.mapper(rec);
        // Shard filter: another shard's record is settled here without being counted or sent.
        if (run.shard && !ownsRecord(run.shard, m, ordinal)) {
          tally.otherShards += 1;
          tracker.registerSettled(ordinal, at);
          continue;
        }
        tally.read += 1;
        // The ledger: a record the instance holds with this very body is settled unsent.
        const verdict = m.ok && opts.ledger ? verdictOf(opts.ledger, m.request) : undefined;
        if (verdict?.kind !== 'unchanged' && verdict?.kind !== 'new') allHeld = false;
        if (!m.ok) {
          failed.record(m, { ...m.error, status: null }, null, ordinal);
          tracker.registerSettled(ordinal, at, 'failed');
        } else if (verdict?.kind === 'unchanged' || verdict?.kind === 'kept') {
          // A kept one was refused before with this very body: not sent either, settled as the
          // instance holds it (its earlier version), and named again in the summary.
          if (verdict.kind === 'kept') tally.keepEarlier(verdict.documentId);
          tally.unchanged += 1;
          tracker.registerSettled(ordinal, at, 'unchanged');
        } else if (dryRun) {
          if (verdict?.kind === 'updated') tally.updated += 1;
          tally.wouldSend(m.request);
          tracker.registerSettled(ordinal, at);
          // The clock is read once every 64 records, not for each one.
          if ((tally.read & 63) === 0) tally.progress();
        } else {
          tracker.register(ordinal, at);
          if (verdict?.kind === 'new' || verdict?.kind === 'updated') held.set(ordinal, verdict);
          const { source, line, original, request } = m;
          const item: PendingItem = { ordinal, source, line, original, request };
          for (const batch of batcher.add(item, JSON.stringify(m.request).length)) {
            await sender.dispatch(batch);
          }
        }
      }
      if (next.value.end) checkpointer.notePosition(next.value.end);
    }
    if (reachedEnd) {
      await discardOld();
      checkClaims(u, ordinal, run.linesRead(u.source));
    }
    // Records already read are sent too when the run stops cleanly, so the watermark ends
    // right where reading stopped (no failure is recorded twice by the resume); not when
    // the server is failing or the run is aborting.
    const cleanStop = stop.reason !== null && stop.reason !== 'retry-budget';
    const rest =
      (reachedEnd || cleanStop) && stop.fatal === undefined ? batcher.flush() : undefined;
    if (rest) await sender.dispatch(rest);
  } catch (err) {
    stop.fail(err);
  } finally {
    // Stop the reader (closes the file); do not wait on a stdin that may never answer.
    if (!reachedEnd) void reader.return?.().catch(() => {});
  }

  await sender.drain();
  await ticks.stop();
  const complete =
    reachedEnd && !stop.halted && tracker.settledThrough === ordinal && tracker.unsettled === 0;
  if (complete && allHeld && opts.ledger && read && u.checkpoint && known.since !== undefined) {
    const records = { records: ordinal, documents: ordinal - emptyRecords };
    // A memory not written (the ledger busy past its wait, a full disk) costs the next run its
    // lookups, nothing else: the run's outcome does not depend on it.
    try {
      rememberFinished(opts.ledger, read, u.checkpoint.prefix, records, known.since);
    } catch {
      // not remembered
    }
  }
  try {
    const kept = await checkpointer.finish(complete);
    if (kept) tally.stateFiles.push(kept);
  } finally {
    if (failures && failures.written > 0) tally.failuresFiles.add(failures.path);
    const before = u.checkpoint?.state.failures_file;
    if (checkpointer.earlier.failed > 0 && before) tally.failuresFiles.add(before);
    tally.progress(true);
  }
}

/**
 * The mapped records of an array (those past the resume point; the others are undefined), and
 * their ids handed to the ledger to look up together.
 */
function premap(
  run: Run,
  records: readonly SourceRecord[],
  before: number,
  settled: number,
): (MapResult | undefined)[] {
  const out = records.map((rec, k) => (before + k + 1 <= settled ? undefined : run.mapper(rec)));
  const ids = out.flatMap((m) =>
    m?.ok && typeof m.request.document_id === 'string' ? [m.request.document_id] : [],
  );
  if (ids.length > 0) run.opts.ledger?.prefetch?.(ids);
  return out;
}

/**
 * Whether a settled document goes into the ledger: accepted, or refused as already ingested
 * (409) when its id names its body (a `--id-from hash` id), so the instance holds this very body,
 * or when the entry would not name a body anyway (null: held, body unknown; migrate's documents
 * the source's ledger does not know). A 409 for an id of the source's own with a known body
 * says only that the id is held, not with that body.
 */
function settlesInLedger(
  kind: 'accepted' | 'skipped' | 'failed',
  v: { documentId: string; bodyHash: string | null },
): boolean {
  if (kind === 'accepted') return true;
  if (kind !== 'skipped') return false;
  return v.bodyHash === null || hashNamedBy(v.documentId) === v.bodyHash;
}

/**
 * A resumed input read to its end must hold the records its state says are settled: one that
 * has fewer (a state from another file, or edited) is refused, not reported "completed".
 */
function checkClaims(u: Unit, ordinal: number, lines: number | undefined): void {
  if (!u.checkpoint) return;
  const short = ordinal < u.resume.settled || (lines !== undefined && lines < u.resume.line);
  if (!short) return;
  throw new UsageError(
    `${u.source} has fewer records than its state file ${u.checkpoint.file.path} says are ` +
      `settled (${u.resume.settled} records, up to line ${u.resume.line}; the input ends at ` +
      `line ${lines ?? '?'}); cannot resume`,
    { hints: [RESTART_FROM_START] },
  );
}
