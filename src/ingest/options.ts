import type { Clock } from '../clock.js';
import type { ClientStats } from '../client/client.js';
import type { LedgerView } from '../ledger/verdict.js';
import type { StateFile } from '../state-file.js';
import type { IngestState } from './checkpointer.js';
import type { MapOptions } from './mapper.js';
import type { BatchClient } from './sender.js';
import type { Shard } from './shard.js';
import type { EntriesEvent } from './readers/zip.js';
import type { InputFormat, SourceRecord } from './source-record.js';
import type { RunStart } from './tally.js';
import type { StatusClient } from '../memories/status.js';

/** What the pipeline needs of SynapClient (a fake in unit tests). */
export interface IngestClient extends BatchClient, StatusClient {
  stats?(): ClientStats;
  /** The shared limiter, for the "waiting (rate limited)" display and the ETA. */
  readonly limiter?: LimiterView;
}

export interface IngestRunOptions {
  client: IngestClient;
  /** Files or '-' (stdin), ingested in order, each with its own state file, lock and failures file. */
  inputs?: string[];
  /** Instead of inputs: records from elsewhere (migrate). No state file unless recordsState. */
  records?: AsyncIterable<SourceRecord>;
  /**
   * The checkpoint of `records` (migrate keeps one in the state directory): saved as an
   * input's is, and resumed from. `records` must then start at the record after
   * `state.resume_from.line` (the caller reads the state and positions its source).
   */
  recordsState?: RecordsState;
  /** Name of `records` in messages (e.g. "export of profile staging"). */
  recordsName?: string;
  format?: InputFormat;
  /** When a source without times of its own (a transcript) happened (ISO 8601 UTC). */
  createdAt?: string;
  /** Inputs found in a folder given: each one's path inside that folder (`/`-separated). */
  entryNames?: ReadonlyMap<string, string>;
  /** Inputs found in a folder given: the folder, as given (their run files go elsewhere). */
  folderOf?: ReadonlyMap<string, string>;
  /** `--channels`, `--include-private`: what of a chat export is read. */
  channels?: string[];
  includePrivate?: boolean;
  /** Folders named as inputs: the files chosen in each (`inputs` holds them) and those not. */
  containers?: EntriesEvent[];
  stdin?: NodeJS.ReadableStream;
  map: MapOptions;
  /** Profile and the instance's address (Session.stateUrl): part of the request shape a resume must match, and of the lock. */
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
  /** --show N: the first N requests are kept whole for the summary (a dry run). */
  show?: number;
  /** --strict: quality warnings (quality.ts) stop an input before anything is sent. */
  strict?: boolean;
  /** After sending, poll the ingestion status of accepted documents until terminal. */
  wait?: boolean;
  /** The longest that wait lasts in all (default DEFAULT_WAIT_TIMEOUT_MS). */
  waitTimeoutMs?: number;
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
  /** Count the summary's elapsed time and requests from here (the command's pre-flight). */
  since?: RunStart;
  clock?: Clock;
}

export const DEFAULT_BATCH_SIZE = 100;
export const DEFAULT_CONCURRENCY = 8;

/** The request shape of a run, hashed into the state file. */
export function requestShape(opts: IngestRunOptions) {
  const d = opts.map.defaults ?? {};
  return {
    base_url: opts.baseUrl,
    profile: opts.profile,
    format: opts.format ?? null,
    ...(opts.createdAt !== undefined ? { created_at: opts.createdAt } : {}),
    ...(opts.channels ? { channels: opts.channels } : {}),
    ...(opts.includePrivate ? { include_private: true } : {}),
    map: opts.map.map ?? {},
    document_type: d.document_type ?? null,
    mode: d.mode ?? null,
    user_id: d.user_id ?? null,
    customer_id: d.customer_id ?? null,
    metadata: d.metadata ?? {},
    id_from: opts.map.idFrom ?? 'hash',
    ...(d.scope ? { scope: d.scope } : {}),
    // Only when set, so the shape of runs without it is what it always was.
    ...(d.timezone && d.timezone !== 'UTC' ? { timezone: d.timezone } : {}),
  };
}

/** What progress reads of the shared limiter: a 429 pause, and the pace for the ETA. */
export interface LimiterView {
  readonly pauseRemainingMs: number;
  stats?(): { rpm: number | undefined };
  /** A shard's peers that have finished the run (RateLimiter.peersFinished). */
  peersFinished?(finished: number): void;
}

/** A saved (or fresh) state for records from elsewhere; see IngestRunOptions.recordsState. */
export interface RecordsState {
  file: StateFile<'ingest', IngestState>;
  state: IngestState;
  /** The failures file is the run's default one: its size is checkpointed and cut back to. */
  ownsFailures: boolean;
  /** Called with the final state when every record is settled, before the state file goes. */
  onComplete?: (state: IngestState) => Promise<void>;
}
