import type { QualityWarning } from './quality.js';
import type { EntriesEvent } from './readers/zip.js';
import type { CreateMemoryRequest } from '../client/types.js';
import { ExitCode } from '../errors.js';
import type { Counts } from './checkpointer.js';
import type { CreditCheck } from './credit-check.js';

/** Why a run stopped before the end of its input. */
export type StopReason =
  'interrupted' | 'max-duration' | 'max-errors' | 'fail-fast' | 'retry-budget' | 'retry-after';

/**
 * The result of a run (also the `--json` envelope's `result`): counts of this run, where the
 * failures and the checkpoints are, and what the exit code is. Each figure once.
 */
export interface IngestSummary {
  status: 'completed' | 'partial' | 'stopped' | 'interrupted' | 'aborted';
  /** 0, 3 (some records failed), 5 (stopped early, resumable), 130/143 (interrupted). Aborts carry `error`. */
  exit_code: ExitCode;
  stop_reason: StopReason | null;
  dry_run: boolean;
  inputs: string[];
  /** A sharded run: which shard (`2/8`, numbered from 0) and whether it split records or files. */
  shard?: string;
  shard_by?: 'record' | 'file';
  /** Records read this run that belong to other shards (split by record): passed over. */
  other_shards?: number;
  /** Records read this run (records skipped by a resume are not read again). */
  records_read: number;
  /** Records below the saved watermark of an earlier run, passed over by this one. */
  resumed_past: number;
  /** Held by the instance with the same body (the ledger): not sent. Earlier runs included. */
  unchanged: number;
  /** Of `accepted` (with --dry-run: of `sent`), documents the instance held with another body. */
  updated: number;
  /** Records sent to the server (with --dry-run: records that would be sent). */
  sent: number;
  /** Stored, over the whole of each input: earlier runs resumed by this one included. */
  accepted: number;
  /** Already ingested (duplicate document_id): success. Earlier runs included. */
  skipped: number;
  /**
   * Records changed since the instance took their document_id (the ledger holds another body)
   * whose new body the service refused as already ingested: it kept its earlier version. Sent
   * once (then in `skipped`); a later run with the same body does not send them (then in
   * `unchanged`). The ledger keeps naming the body the service holds. Present only when not 0.
   */
  kept_earlier?: number;
  /** The first ten document ids of `kept_earlier`. */
  kept_earlier_ids?: string[];
  /** In the failures file. Earlier runs included. */
  failed: number;
  /**
   * Of `failed` (this run), records their source format could not read (a mail message that
   * is not mail, a transcript without cues, a note whose front matter is not YAML, a Slack day
   * that is not JSON): fixed in the source, then the input ingested again; the failures file
   * cannot send them. Absent when none.
   */
  failed_in_source?: number;
  /** Conversations with no turn left to send (this run): not sent, not failures. */
  skipped_empty?: number;
  /**
   * Files of a folder or zip not read (this run): binary files named like an input (a `.txt`
   * that is an image) and files no input format claims (a `.png` among notes). Absent when none.
   */
  files_skipped?: { binary: number; no_format: number };
  /** The part of accepted, skipped and failed that earlier (interrupted) runs settled. */
  earlier_runs: Counts;
  requests: number;
  rate_limited: number;
  retries: number;
  /** Seconds, to a tenth. */
  elapsed_s: number;
  /** Records read per second, to a tenth. */
  records_per_s: number;
  /** Failures files written this run (empty when nothing failed). */
  failures_files: string[];
  /** State files kept for a resume (empty after a complete run). */
  state_files: string[];
  /** --dry-run: up to three request bodies as they would be sent (--show N: N of them). */
  samples?: CreateMemoryRequest[];
  /** --show N: the samples are the first N requests, whole. */
  show?: number;
  /** Each zip archive read: the entries used (with their format), ignored and refused. */
  archives?: EntriesEvent[];
  /** What the quality checks found in each input's first records (absent: nothing). */
  quality_warnings?: QualityWarning[];
  /** The credit estimate and balance asked before sending (with --dry-run: after reading). */
  credits?: CreditCheck;
  /** --wait: final ingestion statuses of the accepted documents. */
  wait?: WaitCounts;
  /**
   * This run's failed records whose outcome is unknown (OUTCOME_UNKNOWN: the server may or may
   * not have stored them), and how many of them have no document_id (sending those again may
   * store them twice). Absent when there are none.
   */
  outcome_unknown?: { records: number; without_document_id: number };
}

/** How the accepted documents' processing ended, as far as `--wait` saw. */
export interface WaitCounts {
  completed: number;
  failed: number;
  partial_success: number;
  /** Final statuses the JS SDK names besides the Python enum's. */
  error: number;
  cancelled: number;
  /** Not final when the wait ended (a stop, the wait limit, an unreadable status). */
  unfinished: number;
  /** The wait ended at its limit (--wait-timeout) with documents unfinished. */
  timed_out: boolean;
}

/** Documents whose processing --wait could not confirm as completed. */
export function unconfirmedOf(w: WaitCounts): number {
  return w.failed + w.partial_success + w.error + w.cancelled + w.unfinished;
}

/**
 * Status word and exit code from how the run ended (`interrupted`: 130, or 143 for SIGTERM).
 * With --wait, documents whose processing failed or could not be confirmed make it partial.
 */
export function outcomeOf(
  stop: StopReason | null,
  failed: number,
  interrupted: ExitCode,
  wait?: IngestSummary['wait'],
): Pick<IngestSummary, 'status' | 'exit_code'> {
  if (stop === 'interrupted') return { status: 'interrupted', exit_code: interrupted };
  if (stop !== null) return { status: 'stopped', exit_code: ExitCode.STOPPED };
  const unconfirmed = wait ? unconfirmedOf(wait) : 0;
  if (failed > 0 || unconfirmed > 0) return { status: 'partial', exit_code: ExitCode.PARTIAL };
  return { status: 'completed', exit_code: ExitCode.OK };
}
