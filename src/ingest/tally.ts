import type { QualityWarning } from './quality.js';
import type { EntriesEvent } from './readers/zip.js';
import type { Clock } from '../clock.js';
import type { ClientStats } from '../client/client.js';
import type { AdaptiveConcurrency } from '../client/concurrency.js';
import type { CreateMemoryRequest } from '../client/types.js';
import { noCounts } from './checkpointer.js';
import type { IngestReporter } from './reporter.js';
import type { IngestRunOptions } from './options.js';
import type { ItemOutcome } from './sender.js';
import type { StopController } from './stop-controller.js';
import { outcomeOf, type IngestSummary } from './summary.js';

/** How many of the documents the service kept its earlier version of a summary names. */
const KEPT_EARLIER_IDS = 10;

/** Least time between two progress events (a forced one always goes). */
const PROGRESS_EVERY_MS = 200;

const NO_STATS: ClientStats = { requests: 0, rateLimited: 0, retries: 0, transientErrors: 0 };

/**
 * When a run began and the client's counters then: a command that asks the server before the
 * pipeline starts (whoami, the credit estimate) counts those requests, their 429s and their
 * time in the run's summary.
 */
export interface RunStart {
  /** On the run's clock. */
  at: number;
  stats: ClientStats;
}

/**
 * The counts of a run, its progress events and its summary. A count named like a figure of
 * IngestSummary (otherShards: other_shards) is that figure for this run alone; the summary adds
 * the earlier runs' where it says so. Request figures are the client's counters since the run
 * started (a client may be shared with earlier work).
 */
export class Tally {
  read = 0;
  otherShards = 0;
  resumedPast = 0;
  sent = 0;
  unchanged = 0;
  updated = 0;
  keptEarlier = 0;
  /** The first KEPT_EARLIER_IDS document ids of keptEarlier, for the summary to name. */
  readonly keptEarlierIds: string[] = [];
  accepted = 0;
  skipped = 0;
  failed = 0;
  skippedEmpty = 0;
  failedInSource = 0;
  readonly filesSkipped = { binary: 0, no_format: 0 };
  readonly quality: QualityWarning[] = [];
  readonly archives: EntriesEvent[] = [];
  /** Accepted documents' ingestion ids, for --wait. */
  readonly ingestionIds: string[] = [];
  readonly samples: CreateMemoryRequest[] = [];
  readonly failuresFiles = new Set<string>();
  /** earlier_runs: outcomes of the records under the watermarks this run resumed from. */
  readonly earlier = noCounts();
  readonly stateFiles: string[] = [];
  /** The input being read, and its estimated size, for progress. */
  source = '';
  estimatedTotal: number | undefined;
  private readonly startedAt: number;
  private readonly statsAtStart: ClientStats;
  private lastProgressAt = -Infinity;

  constructor(
    private readonly o: Pick<IngestRunOptions, 'client' | 'show' | 'since' | 'shard'> & {
      clock: Clock;
      reporter: IngestReporter;
      dryRun: boolean;
      keepIngestionIds: boolean;
      /** Requests in flight and the concurrency limit now. */
      gate: Pick<AdaptiveConcurrency, 'inFlight' | 'current'>;
    },
  ) {
    this.startedAt = o.since?.at ?? o.clock.now();
    this.statsAtPipeline = this.stats();
    this.statsAtStart = o.since?.stats ?? this.statsAtPipeline;
  }

  /**
   * The client's counters when the pipeline started: the progress line's pace counts the
   * requests from here (records per batch request), the summary from `since`.
   */
  private readonly statsAtPipeline: ClientStats;

  /** This run's OUTCOME_UNKNOWN failures, and how many of them had no document_id. */
  readonly unknown = { records: 0, without_document_id: 0 };

  /**
   * A document came back from the server (an unsent one counts nowhere); `hasId`: it was sent
   * with a document_id.
   */
  count(o: ItemOutcome, hasId: boolean): void {
    if (o.kind === 'unsent') return;
    this.sent += 1;
    if (o.kind === 'failed' && o.error.code === 'OUTCOME_UNKNOWN') {
      this.unknown.records += 1;
      if (!hasId) this.unknown.without_document_id += 1;
    }
    if (o.kind === 'accepted') {
      this.accepted += 1;
      if (this.o.keepIngestionIds && o.ingestionId) this.ingestionIds.push(o.ingestionId);
    } else if (o.kind === 'skipped') {
      this.skipped += 1;
    }
  }

  /** A record whose edit the service refused (409): it keeps its earlier version. */
  keepEarlier(documentId: string): void {
    this.keptEarlier += 1;
    if (this.keptEarlierIds.length < KEPT_EARLIER_IDS) this.keptEarlierIds.push(documentId);
  }

  /** A dry-run record that would be sent. */
  wouldSend(request: CreateMemoryRequest): void {
    this.sent += 1;
    if (this.samples.length < (this.o.show ?? 3)) this.samples.push(request);
  }

  /** Reports progress, at most every 200 ms unless `force`. */
  progress(force = false): void {
    const { reporter, clock } = this.o;
    if (!reporter.onProgress) return;
    const now = clock.now();
    if (!force && now - this.lastProgressAt < PROGRESS_EVERY_MS) return;
    this.lastProgressAt = now;
    const s = this.requestCounts(this.statsAtPipeline);
    // Passed over: resumed past, or another shard's.
    const passed = this.resumedPast + this.otherShards;
    const outcomes = this.accepted + this.skipped + this.failed + this.unchanged;
    reporter.onProgress({
      source: this.source,
      read: this.read,
      sent: this.sent,
      accepted: this.accepted,
      skipped: this.skipped,
      failed: this.failed,
      done: this.read + passed,
      settled: passed + outcomes + (this.o.dryRun ? this.sent : 0),
      paceRpm: this.o.client.limiter?.stats?.().rpm,
      estimatedTotal: this.estimatedTotal,
      inFlightRequests: this.o.gate.inFlight(),
      concurrency: this.o.gate.current(),
      elapsedMs: now - this.startedAt,
      rateLimitedMs: this.o.client.limiter?.pauseRemainingMs ?? 0,
      requests: s.requests,
      rateLimited: s.rate_limited,
      retries: s.retries,
      dryRun: this.o.dryRun,
    });
  }

  /**
   * The summary of the run. Outcome counts (and so the exit code) cover every part of each
   * input: earlier runs that this one resumed, and this one.
   */
  summary(
    stop: Pick<StopController, 'reason' | 'interruptedExitCode'>,
    inputs: string[],
    wait: IngestSummary['wait'],
  ): IngestSummary {
    const { shard } = this.o;
    const elapsed = this.o.clock.now() - this.startedAt;
    const perS = elapsed > 0 ? Math.round((this.read / elapsed) * 10_000) / 10 : 0;
    const failed = this.earlier.failed + this.failed;
    return {
      ...outcomeOf(stop.reason, failed, stop.interruptedExitCode, wait),
      stop_reason: stop.reason,
      dry_run: this.o.dryRun,
      inputs,
      shard: shard && `${shard.index}/${shard.count}`,
      shard_by: shard?.by,
      other_shards: shard?.by === 'record' ? this.otherShards : undefined,
      records_read: this.read,
      resumed_past: this.resumedPast,
      unchanged: this.earlier.unchanged + this.unchanged,
      updated: this.updated,
      sent: this.sent,
      accepted: this.earlier.accepted + this.accepted,
      skipped: this.earlier.skipped + this.skipped,
      // A figure that is 0 is left out (undefined: JSON drops it).
      kept_earlier: this.keptEarlier || undefined,
      kept_earlier_ids: this.keptEarlier > 0 ? [...this.keptEarlierIds] : undefined,
      failed,
      failed_in_source: this.failedInSource || undefined,
      skipped_empty: this.skippedEmpty || undefined,
      files_skipped:
        this.filesSkipped.binary + this.filesSkipped.no_format > 0
          ? { ...this.filesSkipped }
          : undefined,
      earlier_runs: { ...this.earlier },
      ...this.requestCounts(),
      elapsed_s: Math.round(elapsed / 100) / 10,
      records_per_s: perS,
      failures_files: [...this.failuresFiles],
      state_files: [...this.stateFiles],
      samples: this.o.dryRun ? this.samples : undefined,
      show: this.o.show,
      quality_warnings: this.quality.length > 0 ? this.quality : undefined,
      archives: this.archives.length > 0 ? this.archives : undefined,
      wait,
      outcome_unknown: this.unknown.records > 0 ? { ...this.unknown } : undefined,
    };
  }

  private requestCounts(
    from: ClientStats = this.statsAtStart,
  ): Pick<IngestSummary, 'requests' | 'rate_limited' | 'retries'> {
    const s = this.stats();
    return {
      requests: s.requests - from.requests,
      rate_limited: s.rateLimited - from.rateLimited,
      retries: s.retries - from.retries,
    };
  }

  private stats(): ClientStats {
    return this.o.client.stats?.() ?? NO_STATS;
  }
}
