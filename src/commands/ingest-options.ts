import { Option, type Command } from 'commander';
import {
  DOCUMENT_TYPES,
  MAX_BATCH_SIZE,
  MODES,
  type DocumentType,
  type Mode,
  type ScopePath,
} from '../client/types.js';
import { MAX_CONCURRENCY } from '../config/store.js';
import type { GlobalOptions } from '../global-options.js';
import { parseFormat } from '../ingest/format.js';
import { parseMapSpecs, parseScopeSpec, type IdFrom } from '../ingest/mapper.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  type IngestRunOptions,
} from '../ingest/options.js';
import { ingest } from '../ingest/pipeline.js';
import type { InputFormat } from '../ingest/source-record.js';
import type { IngestSummary } from '../ingest/summary.js';
import { createIngestDisplay } from '../output/ingest-progress.js';
import type { Session } from '../session.js';
import { abortOnSignals } from '../signals.js';
import { duration, integer, keyValue, positive } from './flags.js';
import type { Outcome } from './run.js';

/** The ingest options of `synap ingest` and `synap migrate`, as the flag parsers return them. */
export interface IngestFlags {
  format?: InputFormat;
  batchSize?: number;
  concurrency?: number;
  rate?: number;
  map?: Record<string, string>;
  documentType?: DocumentType;
  mode?: Mode;
  userId?: string;
  customerId?: string;
  scope?: ScopePath;
  metadata?: Record<string, string>;
  idFrom?: IdFrom;
  failures?: string;
  restart?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  maxErrors?: number;
  /** Milliseconds. */
  maxDuration?: number;
  failFast?: boolean;
  waitLock?: boolean;
}

/** Repeated `--map api=source`, validated one by one and collected. */
function mapFlag(raw: string, previous: Record<string, string> = {}): Record<string, string> {
  return { ...previous, ...parseMapSpecs([raw]) };
}

/**
 * Declares the ingest options on a command. `forMigrate` leaves out what only makes sense for
 * files (--format, --restart, --wait-lock).
 */
export function declareIngestOptions(cmd: Command, forMigrate = false): Command {
  if (!forMigrate)
    cmd.option(
      '--format <format>',
      'input format: jsonl, csv, tsv, json (default: from the file name; sniffed for stdin)',
      parseFormat,
    );
  cmd
    .option(
      '--batch-size <n>',
      `documents per batch request, 1-${MAX_BATCH_SIZE} (default ${DEFAULT_BATCH_SIZE}, or the profile's batch_size)`,
      integer('--batch-size', 1, MAX_BATCH_SIZE),
    )
    .option(
      '--concurrency <n>',
      `most requests in flight; adapts between 1 and this (default ${DEFAULT_CONCURRENCY}, or the profile's)`,
      integer('--concurrency', 1, MAX_CONCURRENCY),
    )
    .option(
      '--rate <rpm>',
      "requests per minute at most (a cap below the server's limit)",
      positive('--rate', 'requests per minute'),
    )
    .option(
      '--map <api=source>',
      'take an API field from another source field (repeatable, dotted paths), e.g. --map document=body',
      mapFlag,
    )
    .addOption(
      new Option('--document-type <type>', 'document_type for records without one').choices(
        DOCUMENT_TYPES,
      ),
    )
    .addOption(new Option('--mode <mode>', 'mode for records without one').choices(MODES))
    .option('--user-id <id>', 'user_id for records without one')
    .option('--customer-id <id>', 'customer_id for records without one')
    .option(
      '--scope <path>',
      'scope for records without one (nested scoping only), e.g. customer=acme,team=payments,user=dana',
      parseScopeSpec,
    )
    .option(
      '--metadata <key=value>',
      'metadata entry added to every record (repeatable)',
      keyValue('--metadata', '--metadata source=migration'),
    )
    .addOption(
      new Option(
        '--id-from <how>',
        'document_id for records without one: a stable hash of the record, or none',
      )
        .choices(['hash', 'none'])
        .default('hash'),
    )
    .option('--failures <path>', 'where failed records go (default <input>.failures.jsonl)')
    .option(
      '--dry-run',
      'read, map and validate everything; send nothing; show counts and three sample payloads',
    )
    .option('--wait', 'after sending, wait until every accepted document is processed')
    .option(
      '--max-errors <n>',
      'stop (resumable, exit 5) after this many failed records',
      integer('--max-errors', 1),
    )
    .option(
      '--max-duration <time>',
      'stop cleanly after this long, e.g. 30m, 2h, 90s (exit 5; run again to continue)',
      duration('--max-duration'),
    )
    .option(
      '--fail-fast',
      'stop at the first failed record (exit 5; fix it and run again to continue)',
    );
  if (!forMigrate) {
    cmd
      .option('--restart', 'ignore the saved progress of an interrupted run and start over')
      .option(
        '--wait-lock',
        'if another run is ingesting the same input, wait for it instead of exiting 5',
      );
  }
  return cmd;
}

/** The pipeline's options from the flags, with the profile's defaults where a flag is absent. */
export function ingestRunOptions(
  flags: IngestFlags,
  session: Pick<Session, 'defaults' | 'profile' | 'baseUrl' | 'client'>,
): IngestRunOptions {
  const d = session.defaults;
  const documentType = flags.documentType ?? (d.document_type as DocumentType | undefined);
  const mode = flags.mode ?? (d.mode as Mode | undefined);
  const clamp = (v: number, max: number) => Math.min(max, Math.max(1, v));
  return {
    client: session.client,
    map: {
      map: flags.map ?? {},
      idFrom: flags.idFrom ?? 'hash',
      defaults: {
        ...(documentType ? { document_type: documentType } : {}),
        ...(mode ? { mode } : {}),
        ...(flags.userId !== undefined ? { user_id: flags.userId } : {}),
        ...(flags.customerId !== undefined ? { customer_id: flags.customerId } : {}),
        ...(flags.scope ? { scope: flags.scope } : {}),
        ...(flags.metadata ? { metadata: flags.metadata } : {}),
      },
    },
    profile: session.profile,
    baseUrl: session.baseUrl,
    batchSize: flags.batchSize ?? clamp(d.batch_size ?? DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE),
    concurrency: flags.concurrency ?? clamp(d.concurrency ?? DEFAULT_CONCURRENCY, MAX_CONCURRENCY),
    ...(flags.format !== undefined ? { format: flags.format } : {}),
    ...(flags.failures !== undefined ? { failuresPath: flags.failures } : {}),
    ...(flags.maxErrors !== undefined ? { maxErrors: flags.maxErrors } : {}),
    ...(flags.maxDuration !== undefined ? { maxDurationMs: flags.maxDuration } : {}),
    restart: flags.restart === true,
    dryRun: flags.dryRun === true,
    wait: flags.wait === true,
    failFast: flags.failFast === true,
    waitLock: flags.waitLock === true,
  };
}

/**
 * Runs an ingest with its progress display and Ctrl-C handling, for `synap ingest` and
 * `synap migrate`. The summary is the result; its exit code is 0, 3, 5 or 130. A run ended
 * by an error (401/403, 402, a bug) rejects with IngestAbortedError.
 */
export async function ingestWithDisplay(
  globals: GlobalOptions,
  /** The run's options; `signal` (aborted by Ctrl-C) also stops whatever feeds the records. */
  build: (signal: AbortSignal) => Omit<IngestRunOptions, 'signal'>,
): Promise<Outcome<IngestSummary>> {
  const display = createIngestDisplay({
    quiet: globals.quiet || globals.json,
    color: globals.color,
  });
  const signals = abortOnSignals();
  const options = build(signals.signal);
  try {
    const summary = await ingest({ ...options, signal: signals.signal }, display);
    return { result: summary, exitCode: summary.exit_code };
  } finally {
    display.done();
    signals.dispose();
    // A stdin that is still open would keep the process alive after a stop.
    if (options.inputs?.includes('-')) process.stdin.destroy();
  }
}
