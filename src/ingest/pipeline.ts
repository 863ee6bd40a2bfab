import type { ApiResult, ClientStats } from '../client/client.js';
import { systemClock, type Clock } from '../client/clock.js';
import { AdaptiveConcurrency } from '../client/concurrency.js';
import { SynapError } from '../client/errors.js';
import {
  MAX_BATCH_SIZE,
  TERMINAL_STATUSES,
  type CreateMemoryRequest,
  type MemoryStatusResponse,
} from '../client/types.js';
import { StoppedEarlyError } from '../errors.js';
import { Batcher } from './batcher.js';
import { estimateRecords } from './estimate.js';
import {
  defaultFailuresPath,
  FailuresFile,
  type FailureLine,
  type FailuresSink,
} from './failures-file.js';
import { acquireLock, lockPathFor, type IngestLock } from './lock.js';
import { checkDocumentField } from './document-check.js';
import { createMapper, type MapOptions } from './mapper.js';
import { inputIdentity, isRegularFile, readRecordBatches, type ReadOptions } from './readers.js';
import { sendBatch, type BatchClient, type FailureInfo, type ItemOutcome } from './sender.js';
import { SettlementTracker } from './settlement.js';
import type { InputFormat, SourceRecord } from './source-record.js';
import {
  checkResumable,
  hashShape,
  readIngestState,
  removeIngestState,
  statePathFor,
  writeIngestState,
  type IngestState,
  type RequestShape,
} from './state-file.js';
import { outcomeOf, type IngestSummary, type StopReason } from './summary.js';

export type { IngestSummary, StopReason } from './summary.js';

/** What the pipeline needs of SynapClient (a fake in unit tests). */
export interface IngestClient extends BatchClient {
  status(
    ingestionId: string,
    o?: { signal?: AbortSignal },
  ): Promise<ApiResult<MemoryStatusResponse>>;
  stats?(): ClientStats;
  /** The shared limiter, for the "waiting (rate limited)" display and the ETA. */
  readonly limiter?: {
    readonly pauseRemainingMs: number;
    stats?(): { rpm: number | undefined };
  };
}

export interface IngestRunOptions {
  client: IngestClient;
  /** Files or '-' (stdin), ingested in order, each with its own state file, lock and failures file. */
  inputs?: string[];
  /** Instead of inputs: records from elsewhere (migrate). No state file, no lock. */
  records?: AsyncIterable<SourceRecord>;
  /** Name of `records` in messages (e.g. "export of profile staging"). */
  recordsName?: string;
  format?: InputFormat;
  stdin?: NodeJS.ReadableStream;
  map: MapOptions;
  /** Profile and base URL: part of the request shape a resume must match, and of the lock. */
  profile: string;
  baseUrl: string;
  /** 1..100 (default 100). */
  batchSize?: number;
  /** Upper bound of the adaptive concurrency (default 8). */
  concurrency?: number;
  /** One failures file for every input; default `<input>.failures.jsonl` each. */
  failuresPath?: string;
  /** Ignore (and replace) saved state. */
  restart?: boolean;
  dryRun?: boolean;
  /** After sending, poll the ingestion status of accepted documents until terminal. */
  wait?: boolean;
  maxErrors?: number;
  maxDurationMs?: number;
  /** Stop at the first failed record. */
  failFast?: boolean;
  /** Wait for another run's lock instead of stopping (exit 5). */
  waitLock?: boolean;
  /** Aborting it stops the run cleanly: no more reading, in-flight requests finish, state saved. */
  signal?: AbortSignal;
  /** How long in-flight requests may take to finish after a stop before they are abandoned. */
  graceMs?: number;
  /** Checkpoint interval (default 1000 ms). */
  checkpointMs?: number;
  /** Interval between status polls with --wait (default 2000 ms). */
  pollMs?: number;
  clock?: Clock;
}

export interface InputStartEvent {
  source: string;
  index: number;
  count: number;
  stateFile: string | null;
  failuresFile: string | null;
  /** Set when continuing an interrupted run. */
  resumedFrom: { records: number; line: number } | null;
  /** Estimated records in the input (undefined when unknown: stdin, gzip, JSON arrays). */
  estimatedRecords: number | undefined;
}

export interface IngestProgress {
  source: string;
  read: number;
  sent: number;
  accepted: number;
  skipped: number;
  failed: number;
  /** Records read (this run, all inputs so far) plus records passed over by a resume. */
  done: number;
  /** Records with their outcome known (stored, skipped or failed), resumed ones included. */
  settled: number;
  /** Requests per minute the shared limiter paces at, when it knows a limit. */
  paceRpm: number | undefined;
  estimatedTotal: number | undefined;
  inFlightRequests: number;
  concurrency: number;
  elapsedMs: number;
  /** > 0 while every request waits out a 429's Retry-After. */
  rateLimitedMs: number;
  requests: number;
  rateLimited: number;
  retries: number;
  dryRun: boolean;
}

/** Events of a run; the reporter decides how they look (src/output/ingest-*.ts). */
export interface IngestReporter {
  onInputStart?(e: InputStartEvent): void;
  onProgress?(p: IngestProgress): void;
  onFailure?(f: FailureLine): void;
  /** The run is stopping: reading stopped, `inFlight` requests are being settled. */
  onStopping?(e: { reason: StopReason; inFlightRequests: number }): void;
  onWaitProgress?(e: { done: number; total: number }): void;
  /** Something worth knowing that is not a failure, e.g. an input with no records. */
  onWarning?(e: { source: string; code: string; message: string }): void;
}

/** A run that ended on an error that makes going on pointless (401/403/402/404, a bug). */
export interface IngestAborted {
  summary: IngestSummary;
  error: unknown;
}

export const DEFAULT_BATCH_SIZE = 100;
export const DEFAULT_CONCURRENCY = 8;
const DEFAULT_GRACE_MS = 10_000;

interface PendingItem {
  ordinal: number;
  source: string;
  line: number;
  original: unknown;
  request: CreateMemoryRequest;
}

interface Totals {
  read: number;
  resumedPast: number;
  sent: number;
  accepted: number;
  skipped: number;
  failed: number;
}

class StopSignal extends Error {}

/** The request shape of a run, hashed into the state file. */
export function requestShape(opts: IngestRunOptions): RequestShape {
  const d = opts.map.defaults ?? {};
  return {
    base_url: opts.baseUrl,
    profile: opts.profile,
    format: opts.format ?? null,
    map: opts.map.map ?? {},
    document_type: d.document_type ?? null,
    mode: d.mode ?? null,
    user_id: d.user_id ?? null,
    customer_id: d.customer_id ?? null,
    metadata: d.metadata ?? {},
    id_from: opts.map.idFrom ?? 'hash',
    ...(d.scope ? { scope: d.scope } : {}),
  };
}

/**
 * Runs an ingest: reader → mapper → batcher → sender, with failures written to the failures
 * file and a checkpoint at least once a second. Resolves with the summary, or rejects with
 * `{ summary, error }` (IngestAborted) when an error ended the run early (state still saved).
 */
export async function ingest(
  opts: IngestRunOptions,
  reporter: IngestReporter = {},
): Promise<IngestSummary> {
  const run = new IngestRun(opts, reporter);
  return run.execute();
}

/**
 * Ingests records from any source (migrate streams an export in): no state file and no lock;
 * failures go to `failuresPath` (default `synap-ingest.failures.jsonl` in the working directory).
 */
export function ingestRecords(
  records: AsyncIterable<SourceRecord>,
  opts: Omit<IngestRunOptions, 'inputs' | 'records'> & { recordsName?: string },
  reporter: IngestReporter = {},
): Promise<IngestSummary> {
  return ingest({ ...opts, records }, reporter);
}

export function isIngestAborted(v: unknown): v is IngestAborted {
  return typeof v === 'object' && v !== null && 'summary' in v && 'error' in v;
}

class IngestRun {
  private readonly clock: Clock;
  private readonly client: IngestClient;
  private readonly batchSize: number;
  private readonly conc: AdaptiveConcurrency;
  private readonly mapper: ReturnType<typeof createMapper>;
  private readonly shape: RequestShape;
  private readonly startedAt: number;
  private readonly statsAtStart: ClientStats;
  private readonly totals: Totals = {
    read: 0,
    resumedPast: 0,
    sent: 0,
    accepted: 0,
    skipped: 0,
    failed: 0,
  };
  private stop: StopReason | null = null;
  private fatal: unknown = undefined;
  private readonly stopWaiters = new Set<() => void>();
  /** Aborted when in-flight requests are to be abandoned (the grace after a stop ran out). */
  private readonly hardAbort = new AbortController();
  private readonly ingestionIds: string[] = [];
  private readonly samples: CreateMemoryRequest[] = [];
  private readonly failuresFiles = new Set<string>();
  private readonly stateFiles: string[] = [];
  private source = '';
  private estimatedTotal: number | undefined;
  private lastProgressAt = -Infinity;

  constructor(
    private readonly opts: IngestRunOptions,
    private readonly reporter: IngestReporter,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.client = opts.client;
    this.batchSize = Math.max(1, Math.min(MAX_BATCH_SIZE, opts.batchSize ?? DEFAULT_BATCH_SIZE));
    this.conc = new AdaptiveConcurrency(Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY));
    this.mapper = createMapper(opts.map);
    this.shape = requestShape(opts);
    this.startedAt = this.clock.now();
    this.statsAtStart = this.clientStats();
    if (opts.signal) {
      if (opts.signal.aborted) this.requestStop('interrupted');
      else
        opts.signal.addEventListener('abort', () => this.requestStop('interrupted'), {
          once: true,
        });
    }
  }

  async execute(): Promise<IngestSummary> {
    try {
      if (this.opts.records) {
        await this.runUnit({
          source: this.opts.recordsName ?? 'records',
          records: oneByOne(this.opts.records),
          failuresPath: this.opts.failuresPath ?? 'synap-ingest.failures.jsonl',
          discardOldFailures: false,
          index: 0,
          count: 1,
        });
      } else {
        const inputs = this.opts.inputs ?? [];
        for (let i = 0; i < inputs.length && this.stop === null && this.fatal === undefined; i++) {
          await this.runInput(inputs[i]!, i, inputs.length);
        }
      }
      if (
        this.opts.wait &&
        !this.opts.dryRun &&
        this.stop === null &&
        this.fatal === undefined &&
        this.ingestionIds.length > 0
      ) {
        const wait = await this.waitForIngestion();
        return this.summary(wait);
      }
    } catch (err) {
      if (this.fatal === undefined) this.fatal = err;
    }
    const summary = this.summary();
    if (this.fatal !== undefined) {
      const aborted: IngestAborted = {
        summary: { ...summary, status: 'aborted' },
        error: this.fatal,
      };
      throw aborted;
    }
    return summary;
  }

  private requestStop(reason: StopReason): void {
    if (this.stop !== null) return;
    this.stop = reason;
    this.reporter.onStopping?.({ reason, inFlightRequests: this.conc.inFlight() });
    for (const w of [...this.stopWaiters]) w();
    this.stopWaiters.clear();
  }

  /**
   * The next record, or undefined as soon as the run is told to stop (a stdin read may never
   * answer). The stop listener is removed after each read, so nothing piles up per record.
   */
  private nextOrStop<T>(it: AsyncIterator<T>): Promise<IteratorResult<T> | undefined> {
    if (this.halted) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const onStop = () => resolve(undefined);
      this.stopWaiters.add(onStop);
      it.next().then(
        (v) => {
          this.stopWaiters.delete(onStop);
          resolve(v);
        },
        (err: unknown) => {
          this.stopWaiters.delete(onStop);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private setFatal(err: unknown): void {
    if (err instanceof StoppedEarlyError) {
      // The retry budget ran out: the server is unhealthy; stop, resumable.
      this.requestStop('retry-budget');
      return;
    }
    if (this.fatal === undefined) this.fatal = err;
    for (const w of [...this.stopWaiters]) w();
    this.stopWaiters.clear();
  }

  private get halted(): boolean {
    return this.stop !== null || this.fatal !== undefined;
  }

  /** One file (or stdin): lock, state, then the records. */
  private async runInput(input: string, index: number, count: number): Promise<void> {
    const isStdin = input === '-';
    const failuresPath = this.opts.failuresPath ?? defaultFailuresPath(input);
    // Before the first record is sent: stops (exit 2) when none of the first records has a document.
    const checked = () =>
      checkDocumentField(
        readRecordBatches([input], this.readOptions()),
        this.opts.map.map ?? {},
        input === '-' ? 'stdin' : input,
      );
    if (isStdin || this.opts.dryRun || !(await isRegularFile(input))) {
      // stdin or a pipe cannot be re-read, so there is nothing to resume; a dry run changes nothing.
      await this.runUnit({
        source: isStdin ? 'stdin' : input,
        records: await checked(),
        failuresPath,
        discardOldFailures: this.opts.failuresPath === undefined,
        index,
        count,
      });
      return;
    }
    const identity = await inputIdentity(input);
    const lock: IngestLock = await acquireLock(lockPathFor(input), {
      profile: this.opts.profile,
      wait: this.opts.waitLock === true,
      clock: this.clock,
      ...(this.opts.signal ? { signal: this.opts.signal } : {}),
    });
    try {
      const statePath = statePathFor(input);
      let state = this.opts.restart ? undefined : await readIngestState(statePath);
      if (state) checkResumable(state, statePath, identity, this.shape);
      const now = new Date(this.clock.now()).toISOString();
      if (!state) {
        state = {
          version: 1,
          kind: 'synap-ingest',
          input: { path: input, size: identity.size, fingerprint: identity.fingerprint },
          options_hash: hashShape(this.shape),
          shape: this.shape,
          settled_records: 0,
          watermark_line: 0,
          counts: { read: 0, accepted: 0, skipped: 0, failed: 0 },
          failures_file: failuresPath,
          started_at: now,
          updated_at: now,
        };
      }
      await this.runUnit({
        source: input,
        records: await checked(),
        failuresPath,
        // A fresh start begins a fresh default failures file; a resume appends to it.
        discardOldFailures: state.settled_records === 0 && this.opts.failuresPath === undefined,
        index,
        count,
        state,
        statePath,
        estimate: await estimateRecords(input, identity.size),
      });
    } finally {
      await lock.release();
    }
  }

  private readOptions(): ReadOptions {
    return {
      ...(this.opts.format ? { format: this.opts.format } : {}),
      ...(this.opts.stdin ? { stdin: this.opts.stdin } : {}),
      onInputEnd: (e) => {
        if (e.records === 0)
          this.reporter.onWarning?.({
            source: e.source,
            code: 'EMPTY_INPUT',
            message: `${e.source}: 0 records (the input is empty)`,
          });
      },
    };
  }

  private async runUnit(u: {
    source: string;
    /** The records in read order, in arrays (see readRecordBatches). */
    records: AsyncIterable<SourceRecord[]>;
    failuresPath: string;
    discardOldFailures: boolean;
    index: number;
    count: number;
    state?: IngestState;
    statePath?: string;
    estimate?: number | undefined;
  }): Promise<void> {
    this.source = u.source;
    const resumeFrom = u.state?.settled_records ?? 0;
    const tracker = new SettlementTracker(resumeFrom, u.state?.watermark_line ?? 0);
    this.estimatedTotal = u.estimate;
    const unitStart = { ...this.totals };
    if (u.discardOldFailures && !this.opts.dryRun) await FailuresFile.discard(u.failuresPath);
    const failures: FailuresSink | undefined = this.opts.dryRun
      ? undefined
      : new FailuresFile(u.failuresPath);
    this.reporter.onInputStart?.({
      source: u.source,
      index: u.index,
      count: u.count,
      stateFile: u.statePath ?? null,
      failuresFile: failures ? u.failuresPath : null,
      resumedFrom:
        resumeFrom > 0 ? { records: resumeFrom, line: u.state?.watermark_line ?? 0 } : null,
      estimatedRecords: u.estimate,
    });

    // Checkpoints: failures made durable first, then the state that counts them as settled.
    let checkpointing: Promise<void> = Promise.resolve();
    let lastSaved = -1;
    const checkpoint = (force = false): Promise<void> => {
      const next = checkpointing.then(async () => {
        await failures?.flush();
        if (!u.state || !u.statePath) return;
        if (!force && tracker.settledThrough === lastSaved) return;
        const through = tracker.settledThrough;
        const s = u.state;
        s.settled_records = through;
        s.watermark_line = tracker.watermarkLine;
        s.counts = {
          read: through,
          accepted: s.counts.accepted + this.totals.accepted - unitStart.accepted,
          skipped: s.counts.skipped + this.totals.skipped - unitStart.skipped,
          failed: s.counts.failed + this.totals.failed - unitStart.failed,
        };
        unitStart.accepted = this.totals.accepted;
        unitStart.skipped = this.totals.skipped;
        unitStart.failed = this.totals.failed;
        s.updated_at = new Date(this.clock.now()).toISOString();
        await writeIngestState(u.statePath, s);
        lastSaved = through;
      });
      checkpointing = next.catch(() => {});
      return next;
    };
    const ticker = new AbortController();
    const tick = (async () => {
      for (;;) {
        try {
          await this.clock.sleep(this.opts.checkpointMs ?? 1000, ticker.signal);
        } catch {
          return;
        }
        if (
          this.opts.maxDurationMs !== undefined &&
          this.clock.now() - this.startedAt >= this.opts.maxDurationMs
        ) {
          this.requestStop('max-duration');
        }
        await checkpoint().catch((err: unknown) => this.setFatal(err));
        this.progress(true);
      }
    })();

    const recordFailure = (
      item: { source: string; line: number; original: unknown },
      error: FailureInfo & { field?: string },
      correlationId: string | null,
    ): void => {
      const line: FailureLine = {
        source: item.source,
        line: item.line,
        record: item.original ?? null,
        error: {
          code: error.code,
          status: error.status,
          message: error.message,
          ...(error.field !== undefined ? { field: error.field } : {}),
        },
        correlation_id: correlationId,
        at: new Date(this.clock.now()).toISOString(),
      };
      failures?.append(line);
      if (failures) this.failuresFiles.add(failures.path);
      this.totals.failed += 1;
      this.reporter.onFailure?.(line);
      if (this.opts.failFast) this.requestStop('fail-fast');
      else if (this.opts.maxErrors !== undefined && this.totals.failed >= this.opts.maxErrors) {
        this.requestStop('max-errors');
      }
    };

    const inFlight = new Set<Promise<void>>();
    const dispatch = async (batch: PendingItem[]): Promise<void> => {
      await this.conc.acquire();
      if (this.hardAbort.signal.aborted) {
        this.conc.release('neutral');
        return;
      }
      const p = this.send(batch, tracker, recordFailure).finally(() => inFlight.delete(p));
      inFlight.add(p);
    };

    const batcher = new Batcher<PendingItem>(this.batchSize);
    let ordinal = 0;
    let reachedEnd = false;
    const it = u.records[Symbol.asyncIterator]();
    try {
      let chunk: SourceRecord[] = [];
      let at = 0;
      for (;;) {
        if (this.halted) break;
        if (
          this.opts.maxDurationMs !== undefined &&
          this.clock.now() - this.startedAt >= this.opts.maxDurationMs
        ) {
          this.requestStop('max-duration');
          break;
        }
        if (at >= chunk.length) {
          const next = await this.nextOrStop(it);
          if (next === undefined) break;
          if (next.done) {
            reachedEnd = true;
            break;
          }
          chunk = next.value;
          at = 0;
          continue;
        }
        // Records left in the array when the run stops were never counted as read, so the
        // watermark stays below them and a resume reads them again.
        const rec = chunk[at++]!;
        ordinal += 1;
        if (ordinal <= resumeFrom) {
          this.totals.resumedPast += 1;
          continue;
        }
        this.totals.read += 1;
        const m = this.mapper(rec);
        if (!m.ok) {
          recordFailure(m, { ...m.error, status: null }, null);
          tracker.registerSettled(ordinal, rec.line);
          continue;
        }
        if (this.opts.dryRun) {
          this.totals.sent += 1;
          if (this.samples.length < 3) this.samples.push(m.request);
          tracker.registerSettled(ordinal, rec.line);
          // The clock is read once every 64 records, not for each one.
          if ((this.totals.read & 63) === 0) this.progress();
          continue;
        }
        tracker.register(ordinal, rec.line);
        const item: PendingItem = {
          ordinal,
          source: m.source,
          line: m.line,
          original: m.original,
          request: m.request,
        };
        for (const batch of batcher.add(item, JSON.stringify(m.request).length)) {
          await dispatch(batch);
        }
      }
      // Records already read are sent too when the run stops cleanly, so the watermark ends
      // right where reading stopped (no failure is recorded twice by the resume); not when
      // the server is failing or the run is aborting.
      const cleanStop = this.stop !== null && this.stop !== 'retry-budget';
      if ((reachedEnd || cleanStop) && this.fatal === undefined) {
        const rest = batcher.flush();
        if (rest) await dispatch(rest);
      }
    } catch (err) {
      this.setFatal(err);
    } finally {
      if (!reachedEnd) {
        // Stop the reader (closes the file); do not wait on a stdin that may never answer.
        void it.return?.().catch(() => {});
      }
    }

    // Let in-flight requests finish; after a stop, only for the grace period.
    if (inFlight.size > 0) {
      const all = Promise.allSettled([...inFlight]);
      if (this.halted) {
        const grace = new AbortController();
        const timer = this.clock
          .sleep(this.opts.graceMs ?? DEFAULT_GRACE_MS, grace.signal)
          .then(() => this.hardAbort.abort(new StopSignal('stopped')))
          .catch(() => {});
        await all;
        grace.abort();
        await timer;
      } else {
        await all;
      }
    }
    ticker.abort();
    await tick;

    const complete =
      reachedEnd && !this.halted && tracker.settledThrough === ordinal && tracker.unsettled === 0;
    try {
      await checkpoint(true);
      if (complete && u.statePath) await removeIngestState(u.statePath);
      else if (u.statePath) this.stateFiles.push(u.statePath);
    } finally {
      await failures?.close();
    }
    this.progress(true);
  }

  private async send(
    batch: PendingItem[],
    tracker: SettlementTracker,
    recordFailure: (item: PendingItem, error: FailureInfo, correlationId: string | null) => void,
  ): Promise<void> {
    const started = this.clock.now();
    const transientBefore = this.clientStats().transientErrors;
    let outcomes: ItemOutcome[];
    try {
      outcomes = await sendBatch(
        this.client,
        batch.map((b) => b.request),
        { signal: this.hardAbort.signal },
      );
    } catch (err) {
      this.conc.release(err instanceof SynapError && err.transient ? 'overload' : 'neutral');
      this.setFatal(err);
      return;
    }
    const troubled = this.clientStats().transientErrors > transientBefore;
    this.conc.release(troubled ? 'overload' : 'ok', this.clock.now() - started);
    batch.forEach((item, i) => {
      const o = outcomes[i] ?? { kind: 'unsent' as const };
      if (o.kind === 'unsent') return;
      this.totals.sent += 1;
      if (o.kind === 'accepted') {
        this.totals.accepted += 1;
        if (this.opts.wait && o.ingestionId) this.ingestionIds.push(o.ingestionId);
      } else if (o.kind === 'skipped') {
        this.totals.skipped += 1;
      } else {
        recordFailure(item, o.error, o.correlationId);
      }
      tracker.settle(item.ordinal);
    });
    this.progress();
  }

  /** Polls each accepted document's ingestion until it is terminal (or the run is stopped). */
  private async waitForIngestion(): Promise<NonNullable<IngestSummary['wait']>> {
    const result = { completed: 0, failed: 0, partial_success: 0, unfinished: 0 };
    const ids = this.ingestionIds;
    let nextIndex = 0;
    let done = 0;
    const worker = async () => {
      while (nextIndex < ids.length) {
        const id = ids[nextIndex++]!;
        for (;;) {
          if (this.halted) {
            result.unfinished += 1;
            break;
          }
          const r = await this.client.status(id);
          const status = r.data.status;
          if ((TERMINAL_STATUSES as readonly string[]).includes(status)) {
            if (status === 'completed') result.completed += 1;
            else if (status === 'failed') result.failed += 1;
            else result.partial_success += 1;
            break;
          }
          try {
            await this.clock.sleep(this.opts.pollMs ?? 2000, this.opts.signal);
          } catch {
            // Interrupted: count the rest as unfinished.
          }
        }
        done += 1;
        this.reporter.onWaitProgress?.({ done, total: ids.length });
      }
    };
    const workers = Math.max(1, Math.min(this.opts.concurrency ?? DEFAULT_CONCURRENCY, ids.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return result;
  }

  private clientStats(): ClientStats {
    return this.client.stats?.() ?? { requests: 0, rateLimited: 0, retries: 0, transientErrors: 0 };
  }

  private progress(force = false): void {
    if (!this.reporter.onProgress) return;
    const now = this.clock.now();
    if (!force && now - this.lastProgressAt < 200) return;
    this.lastProgressAt = now;
    const s = this.clientStats();
    this.reporter.onProgress({
      source: this.source,
      read: this.totals.read,
      sent: this.totals.sent,
      accepted: this.totals.accepted,
      skipped: this.totals.skipped,
      failed: this.totals.failed,
      done: this.totals.read + this.totals.resumedPast,
      settled:
        this.totals.resumedPast +
        this.totals.accepted +
        this.totals.skipped +
        this.totals.failed +
        (this.opts.dryRun ? this.totals.sent : 0),
      paceRpm: this.client.limiter?.stats?.().rpm,
      estimatedTotal: this.estimatedTotal,
      inFlightRequests: this.conc.inFlight(),
      concurrency: this.conc.current(),
      elapsedMs: now - this.startedAt,
      rateLimitedMs: this.client.limiter?.pauseRemainingMs ?? 0,
      requests: s.requests - this.statsAtStart.requests,
      rateLimited: s.rateLimited - this.statsAtStart.rateLimited,
      retries: s.retries - this.statsAtStart.retries,
      dryRun: this.opts.dryRun === true,
    });
  }

  private summary(wait?: IngestSummary['wait']): IngestSummary {
    const elapsed = this.clock.now() - this.startedAt;
    const s = this.clientStats();
    const { status, exit_code } = outcomeOf(this.stop, this.totals.failed);
    return {
      status,
      exit_code,
      stop_reason: this.stop,
      dry_run: this.opts.dryRun === true,
      inputs: this.opts.records
        ? [this.opts.recordsName ?? 'records']
        : (this.opts.inputs ?? []).map((i) => (i === '-' ? 'stdin' : i)),
      records_read: this.totals.read,
      resumed_past: this.totals.resumedPast,
      sent: this.totals.sent,
      accepted: this.totals.accepted,
      skipped: this.totals.skipped,
      failed: this.totals.failed,
      requests: s.requests - this.statsAtStart.requests,
      rate_limited: s.rateLimited - this.statsAtStart.rateLimited,
      retries: s.retries - this.statsAtStart.retries,
      elapsed_ms: elapsed,
      records_per_second: elapsed > 0 ? Math.round((this.totals.read / elapsed) * 10_000) / 10 : 0,
      failures_files: [...this.failuresFiles],
      state_files: [...this.stateFiles],
      elapsed_s: Math.round(elapsed / 100) / 10,
      records_per_s: elapsed > 0 ? Math.round((this.totals.read / elapsed) * 10_000) / 10 : 0,
      failures_file: [...this.failuresFiles][0] ?? null,
      state_file: this.stateFiles[0] ?? null,
      ...(this.opts.dryRun ? { samples: this.samples } : {}),
      ...(wait ? { wait } : {}),
    };
  }
}

/** Records from elsewhere (migrate) as the pipeline takes them: one-record arrays. */
async function* oneByOne(records: AsyncIterable<SourceRecord>): AsyncGenerator<SourceRecord[]> {
  for await (const rec of records) yield [rec];
}
