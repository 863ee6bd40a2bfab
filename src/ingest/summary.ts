import type { CreateMemoryRequest } from '../client/types.js';

/** Why a run stopped before the end of its input. */
export type StopReason =
  'interrupted' | 'max-duration' | 'max-errors' | 'fail-fast' | 'retry-budget';

export type IngestStatusWord = 'completed' | 'partial' | 'stopped' | 'interrupted' | 'aborted';

/**
 * The result of a run (also the `--json` summary's `result`): counts of this run, where the
 * failures and the checkpoint are, and what the exit code should be.
 */
export interface IngestSummary {
  status: IngestStatusWord;
  /** 0, 3 (some records failed), 5 (stopped early, resumable), 130 (interrupted). Aborts carry `error`. */
  exit_code: 0 | 3 | 5 | 130;
  stop_reason: StopReason | null;
  dry_run: boolean;
  inputs: string[];
  /** Records read this run (records skipped by a resume are not read again). */
  records_read: number;
  /** Records below the saved watermark of an earlier run, passed over by this one. */
  resumed_past: number;
  /** Records sent to the server (with --dry-run: records that would be sent). */
  sent: number;
  accepted: number;
  /** Already ingested (duplicate document_id): success. */
  skipped: number;
  failed: number;
  requests: number;
  rate_limited: number;
  retries: number;
  elapsed_ms: number;
  records_per_second: number;
  /** Failures files written this run (empty when nothing failed). */
  failures_files: string[];
  /** State files kept for a resume (empty after a complete run). */
  state_files: string[];
  /** The same in the units and singular names scripts expect (first file, or null). */
  elapsed_s: number;
  records_per_s: number;
  failures_file: string | null;
  state_file: string | null;
  /** --dry-run: up to three request bodies as they would be sent. */
  samples?: CreateMemoryRequest[];
  /** --wait: final ingestion statuses of the accepted documents. */
  wait?: { completed: number; failed: number; partial_success: number; unfinished: number };
}

/** Exit code and status word from how the run ended (product.md §4). */
export function outcomeOf(
  stop: StopReason | null,
  failed: number,
): Pick<IngestSummary, 'status' | 'exit_code'> {
  if (stop === 'interrupted') return { status: 'interrupted', exit_code: 130 };
  if (stop !== null) return { status: 'stopped', exit_code: 5 };
  if (failed > 0) return { status: 'partial', exit_code: 3 };
  return { status: 'completed', exit_code: 0 };
}
