import type { Clock } from '../clock.js';
import type { LedgerView } from '../ledger/verdict.js';
import type { RequestShape } from './checkpointer.js';
import type { DispatcherClient } from './dispatcher.js';
import type { MapOptions } from './mapper.js';
import type { Shard } from './shard.js';
import type { InputFormat, SourceRecord } from './source-record.js';
import type { StatusClient } from './wait-poller.js';

/** What the pipeline needs of SynapClient (a fake in unit tests). */
export interface IngestClient extends DispatcherClient, StatusClient {
  /** The shared limiter, for the "waiting (rate limited)" display and the ETA. */
  readonly limiter?: LimiterView;
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
  /**
   * This run is one shard of several: with `by: 'record'` it sends only the records that hash
   * to it, with per-shard state, lock and failures files; either way a finished input leaves
   * a done file behind (done-file.ts) for `--shard-report`.
   */
  shard?: Shard;
  /**
   * What the instance already holds (src/ledger/): a record held with the same body is not
   * sent (`unchanged`); an accepted one is recorded. Absent with --resend, or when the
   * instance is not known (a dry run without a key).
   */
  ledger?: LedgerView;
  /** Aborting it stops the run cleanly: no more reading, in-flight requests finish, state saved. */
  signal?: AbortSignal;
  /** Checkpoint interval (default 1000 ms). */
  checkpointMs?: number;
  clock?: Clock;
}

export const DEFAULT_BATCH_SIZE = 100;
export const DEFAULT_CONCURRENCY = 8;

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

/** What progress reads of the shared limiter: a 429 pause, and the pace for the ETA. */
export interface LimiterView {
  readonly pauseRemainingMs: number;
  stats?(): { rpm: number | undefined };
}
