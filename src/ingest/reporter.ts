import type { FailureLine } from './failures-file.js';
import type { EntriesEvent } from './readers/zip.js';
import type { Elsewhere } from './run-files.js';
import type { StopReason } from './summary.js';

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
  /** Where its files are kept instead of beside it (the user's state directory), and why. */
  filesIn?: Elsewhere;
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
  /** An archive is opened: the entries read, and those ignored or refused (with why). */
  onEntries?(e: EntriesEvent): void;
  /** Something worth knowing that is not a failure, e.g. an input with no records. */
  onWarning?(e: { source: string; code: string; message: string }): void;
}
