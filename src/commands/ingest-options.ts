import { Option, type Command } from 'commander';
import {
  DOCUMENT_TYPES,
  MAX_BATCH_SIZE,
  MODES,
  type DocumentType,
  type Mode,
  type ScopePath,
} from '../client/types.js';
import { parseRateSpec, type RateSpec } from '../client/rate-spec.js';
import { MAX_CONCURRENCY } from '../config/settings.js';
import { formatList, parseFormat } from '../ingest/formats/index.js';
import { parseMapSpecs, parseScopeSpec } from '../ingest/map-spec.js';
import type { IdFrom } from '../ingest/mapper.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  type IngestRunOptions,
} from '../ingest/options.js';
import {
  JOB_INDEX_VARIABLE,
  parseShardCount,
  parseShardSpec,
  SHARD_BY,
  type ShardBy,
} from '../ingest/shard.js';
import type { IngestSummary } from '../ingest/summary.js';
import type { View } from '../output/view.js';
import type { CommandLine, CommandLineEdit } from '../command-line.js';
import { isIsoDate } from '../client/datetime.js';
import { UsageError } from '../errors.js';
import { duration, integer, keyValue, timeZone } from './flags.js';

/** The flags that are options of the pipeline (IngestRunOptions) of the same name and meaning. */
export const RUN_OPTION_FLAGS = [
  'format',
  'createdAt',
  'channels',
  'includePrivate',
  'maxErrors',
  'show',
  'restart',
  'strict',
  'wait',
  'failFast',
  'waitLock',
] as const;

export type RunOptionFlags = Pick<IngestRunOptions, (typeof RUN_OPTION_FLAGS)[number]>;

/** The ingest options of `synap ingest` and `synap migrate`, as the flag parsers return them. */
export interface IngestFlags extends RunOptionFlags {
  batchSize?: number;
  concurrency?: number;
  rate?: RateSpec;
  map?: Record<string, string>;
  documentType?: DocumentType;
  mode?: Mode;
  userId?: string;
  customerId?: string;
  scope?: ScopePath;
  /** IANA zone of naive document_created_at values. */
  timezone?: string;
  metadata?: Record<string, string>;
  idFrom?: IdFrom;
  failures?: string;
  dryRun?: boolean;
  /** Milliseconds: the longest --wait waits in all. */
  waitTimeout?: number;
  /** Milliseconds. */
  maxDuration?: number;
  /** What to do after a failure that may have stored the batch (see RetryPolicy.ambiguous). */
  onAmbiguous?: 'retry' | 'fail';
  /** Send every record, whatever the ledger says the instance holds (this run only). */
  resend?: boolean;
  /** Go on although the pre-flight estimate exceeds the balance. */
  yes?: boolean;
  /** `--shard i/n`. */
  shard?: { index: number; count: number };
  shards?: number;
  shardBy?: ShardBy;
  filesFrom?: string;
  shardReport?: boolean;
}

/** `--created-at`: an ISO 8601 time, as UTC (a time without a zone is UTC). */
function createdAtFlag(raw: string): string {
  const s = raw.trim();
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(s) || s.length === 10 ? s : `${s}Z`;
  const t = Date.parse(zoned.replace(' ', 'T'));
  if (!isIsoDate(s) || Number.isNaN(t)) {
    throw new UsageError(
      `--created-at ${JSON.stringify(raw)} is not an ISO 8601 time (e.g. 2024-03-15T10:30:00Z)`,
    );
  }
  return new Date(t).toISOString();
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
    cmd
      .option(
        '--format <format>',
        `input format: ${formatList()} (default: from the file name; sniffed for stdin)`,
        parseFormat,
      )
      .option(
        '--strict',
        'quality warnings on the first 1,000 records (speaker labels, dates, customers) are errors: exit 2, nothing sent',
      )
      .option(
        '--created-at <time>',
        "when a meeting transcript's meeting started, ISO 8601 (cue times are offsets; default: the file's modification time, with a warning)",
        createdAtFlag,
      )
      .option(
        '--channels <names>',
        'a Slack export: only these channels (comma-separated names or ids)',
        (raw: string) =>
          raw
            .split(',')
            .map((s) => s.trim().replace(/^#/, ''))
            .filter(Boolean),
      )
      .option(
        '--include-private',
        'a Slack export: private channels and direct messages too (groups.json, dms.json, mpims.json)',
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
      '--rate <rpm|share>',
      "requests per minute at most, burst included (e.g. 300), or a share of the server's limit (e.g. 50%)",
      (raw: string) => parseRateSpec(raw),
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
      '--timezone <zone>',
      'IANA time zone of document_created_at values without an offset, e.g. Europe/Berlin (default UTC)',
      timeZone('--timezone'),
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
    .addOption(
      new Option(
        '--show <n>',
        'a dry run that prints the first N documents exactly as they would be sent',
      )
        .argParser(integer('--show', 1, 10_000))
        .implies({ dryRun: true }),
    )
    .option('--wait', 'after sending, wait until every accepted document is processed')
    .option(
      '--wait-timeout <time>',
      'the longest --wait waits in all, e.g. 10m (default 5m, as the SDK waits)',
      duration('--wait-timeout'),
    )
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
    )
    .addOption(
      new Option(
        '--on-ambiguous <what>',
        'after a timeout or reset that may have stored a batch: retry it (only when every document has a document_id), or fail its records as OUTCOME_UNKNOWN',
      )
        .choices(['retry', 'fail'])
        .default('retry'),
    )
    .option('-y, --yes', 'send even when the credit estimate exceeds the balance')
    .option(
      '--resend',
      'send every record, also those the ledger says the instance holds unchanged (this run only)',
    );
  if (!forMigrate) {
    cmd
      .option('--restart', 'ignore the saved progress of an interrupted run and start over')
      .option(
        '--wait-lock',
        'if another run is ingesting the same input, wait for it instead of exiting 5',
      )
      .option(
        '--files-from <list>',
        'read the input file names from this file, one a line (- for stdin)',
      )
      .option(
        '--shard <i/n>',
        'send only shard i of n (numbered from 0): the records whose document_id hashes to i',
        parseShardSpec,
      )
      .option(
        '--shards <n>',
        `the number of shards, with the index from ${JOB_INDEX_VARIABLE} (Kubernetes Indexed Jobs)`,
        parseShardCount,
      )
      .addOption(
        new Option(
          '--shard-by <what>',
          'split the records of every input, or whole input files (default: record)',
        ).choices(SHARD_BY),
      )
      .option(
        '--shard-report',
        "send nothing: merge the shards' progress and summaries beside the inputs into one",
      );
  }
  return cmd;
}

/**
 * The summary of `synap ingest` (stderr: stdout stays free for data). Its hint to retry what
 * failed is the user's command line with the failures files as its inputs, and without what
 * named or shaped the old inputs (--failures, --format, --restart).
 */
export async function renderIngestSummary(
  summary: IngestSummary,
  view: View,
  retry: (files: string[], line: CommandLine) => CommandLineEdit = (files) => ({
    args: files,
    drop: ['--failures', '--format', '--restart'],
  }),
): Promise<void> {
  const { printIngestSummary } = await import('../output/ingest-summary.js');
  const line = view.commandLine;
  printIngestSummary(summary, {
    quiet: view.quiet,
    color: view.stderrColor,
    ...(line ? { retryCommand: (files: string[]) => line.with(retry(files, line)) } : {}),
  });
}
