import type { CreateMemoryRequest } from '../client/types.js';
import { ExitCode } from '../errors.js';
import type { CreditCheck } from './credit-check.js';

/** Why a run stopped before the end of its input. */
export type StopReason =
  'interrupted' | 'max-duration' | 'max-errors' | 'fail-fast' | 'retry-budget' | 'retry-after';

export type IngestStatusWord = 'completed' | 'partial' | 'stopped' | 'interrupted' | 'aborted';

/**
 * The result of a run (also the `--json` envelope's `result`): counts of this run, where the
 * failures and the checkpoints are, and what the exit code is. Each figure once.
 */
export interface IngestSummary {
  status: IngestStatusWord;
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
  /** In the failures file. Earlier runs included. */
  failed: number;
  /** The part of accepted, skipped and failed that earlier (interrupted) runs settled. */
  earlier_runs: { accepted: number; skipped: number; failed: number; unchanged: number };
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
  /** --dry-run: up to three request bodies as they would be sent. */
  samples?: CreateMemoryRequest[];
  /** The credit estimate and balance asked before sending (with --dry-run: after reading). */
  credits?: CreditCheck;
  /** --wait: final ingestion statuses of the accepted documents. */
  wait?: { completed: number; failed: number; partial_success: number; unfinished: number };
}

/**
 * Status word and exit code from how the run ended (`interrupted`: 130, or 143 for SIGTERM).
 * With --wait, documents whose processing failed or could not be confirmed make it partial.
 */
export function outcomeOf(
  stop: StopReason | null,
  failed: number,
  interrupted: ExitCode = ExitCode.INTERRUPTED,
  wait?: IngestSummary['wait'],
): Pick<IngestSummary, 'status' | 'exit_code'> {
  if (stop === 'interrupted') return { status: 'interrupted', exit_code: interrupted };
  if (stop !== null) return { status: 'stopped', exit_code: ExitCode.STOPPED };
  const unconfirmed = wait ? wait.failed + wait.partial_success + wait.unfinished : 0;
  if (failed > 0 || unconfirmed > 0) return { status: 'partial', exit_code: ExitCode.PARTIAL };
  return { status: 'completed', exit_code: ExitCode.OK };
}
