import { Option, type Command } from 'commander';
import {
  DOCUMENT_TYPES,
  MAX_BATCH_SIZE,
  MODES,
  type DocumentType,
  type Mode,
} from '../client/types.js';
import { openSession, type Session } from '../config/session.js';
import { UsageError } from '../errors.js';
import { globalOptions, type GlobalOptions } from '../global-options.js';
import { abortOnSignals } from '../signals.js';
import { parseDuration } from '../ingest/duration.js';
import {
  MapSpecError,
  parseMapSpecs,
  parseScopeSpec,
  type IdFrom,
  type MapOptions,
} from '../ingest/mapper.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  ingest,
  isIngestAborted,
  type IngestRunOptions,
} from '../ingest/pipeline.js';
import { assertReadable, parseFormat } from '../ingest/readers.js';
import type { SourceRecord } from '../ingest/source-record.js';
import type { IngestSummary } from '../ingest/summary.js';
import { createIngestDisplay } from '../output/ingest-progress.js';
import { printIngestSummary, writeIngestSummaryJson } from '../output/ingest-summary.js';

/** The flags of `synap ingest` (also accepted by `synap migrate`, see addIngestOptions). */
export interface IngestFlags {
  format?: string;
  batchSize?: string;
  concurrency?: string;
  rate?: string;
  map?: string[];
  documentType?: string;
  mode?: string;
  userId?: string;
  customerId?: string;
  scope?: string;
  metadata?: string[];
  idFrom?: string;
  failures?: string;
  restart?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  maxErrors?: string;
  maxDuration?: string;
  failFast?: boolean;
  waitLock?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * Adds the ingest options to a command. `forMigrate` leaves out what only makes sense for
 * files (--format, --restart, --wait-lock).
 */
export function addIngestOptions(cmd: Command, forMigrate = false): Command {
  if (!forMigrate)
    cmd.option(
      '--format <format>',
      'input format: jsonl, csv, tsv, json (default: from the file name; sniffed for stdin)',
    );
  cmd
    .option(
      '--batch-size <n>',
      `documents per batch request, 1-${MAX_BATCH_SIZE} (default ${DEFAULT_BATCH_SIZE}, or the profile's batch_size)`,
    )
    .option(
      '--concurrency <n>',
      `most requests in flight; adapts between 1 and this (default ${DEFAULT_CONCURRENCY}, or the profile's)`,
    )
    .option('--rate <rpm>', "requests per minute at most (a cap below the server's limit)")
    .option(
      '--map <api=source>',
      'take an API field from another source field (repeatable, dotted paths), e.g. --map document=body',
      collect,
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
    )
    .option('--metadata <key=value>', 'metadata entry added to every record (repeatable)', collect)
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
    .option('--max-errors <n>', 'stop (resumable, exit 5) after this many failed records')
    .option(
      '--max-duration <time>',
      'stop cleanly after this long, e.g. 30m, 2h, 90s (exit 5; run again to continue)',
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

function intFlag(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return n;
}

function parseMetadata(specs: string[] | undefined): Record<string, string> | undefined {
  if (!specs || specs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0)
      throw new UsageError(
        `--metadata "${spec}": expected key=value, e.g. --metadata source=migration`,
      );
    out[spec.slice(0, eq).trim()] = spec.slice(eq + 1);
  }
  return out;
}

/** Turns flags (+ profile defaults) into the pipeline's options, minus client and inputs. */
export function ingestOptionsFromFlags(
  flags: IngestFlags,
  session: Pick<Session, 'defaults' | 'profile' | 'baseUrl'>,
): Omit<IngestRunOptions, 'client'> {
  let map: Record<string, string> = {};
  let scope;
  try {
    map = parseMapSpecs(flags.map ?? []);
    if (flags.scope !== undefined) scope = parseScopeSpec(flags.scope);
  } catch (err) {
    if (err instanceof MapSpecError) throw new UsageError(err.message);
    throw err;
  }
  const d = session.defaults;
  const documentType = (flags.documentType ?? d.document_type) as DocumentType | undefined;
  const mode = (flags.mode ?? d.mode) as Mode | undefined;
  const metadata = parseMetadata(flags.metadata);
  const mapOptions: MapOptions = {
    map,
    idFrom: (flags.idFrom ?? 'hash') as IdFrom,
    defaults: {
      ...(documentType ? { document_type: documentType } : {}),
      ...(mode ? { mode } : {}),
      ...(flags.userId !== undefined ? { user_id: flags.userId } : {}),
      ...(flags.customerId !== undefined ? { customer_id: flags.customerId } : {}),
      ...(scope ? { scope } : {}),
      ...(metadata ? { metadata } : {}),
    },
  };
  const batchSize =
    intFlag('--batch-size', flags.batchSize, 1, MAX_BATCH_SIZE) ??
    Math.min(MAX_BATCH_SIZE, Math.max(1, d.batch_size ?? DEFAULT_BATCH_SIZE));
  const concurrency =
    intFlag('--concurrency', flags.concurrency, 1, 64) ??
    Math.min(64, Math.max(1, d.concurrency ?? DEFAULT_CONCURRENCY));
  const maxErrors = intFlag('--max-errors', flags.maxErrors, 1, Number.MAX_SAFE_INTEGER);
  const maxDurationMs =
    flags.maxDuration !== undefined
      ? parseDuration(flags.maxDuration, '--max-duration')
      : undefined;
  return {
    map: mapOptions,
    profile: session.profile,
    baseUrl: session.baseUrl,
    batchSize,
    concurrency,
    ...(flags.format !== undefined ? { format: parseFormat(flags.format) } : {}),
    ...(flags.failures !== undefined ? { failuresPath: flags.failures } : {}),
    ...(maxErrors !== undefined ? { maxErrors } : {}),
    ...(maxDurationMs !== undefined ? { maxDurationMs } : {}),
    restart: flags.restart === true,
    dryRun: flags.dryRun === true,
    wait: flags.wait === true,
    failFast: flags.failFast === true,
    waitLock: flags.waitLock === true,
  };
}

/**
 * `--rate RPM` as openSession's `maxRpm`: the cap is built into the session's shared limiter,
 * so every request of the run (and of migrate's target) stays under it.
 */
export function rateCap(flags: Pick<IngestFlags, 'rate'>): { maxRpm?: number } {
  if (flags.rate === undefined) return {};
  const rpm = Number(flags.rate);
  if (!(rpm > 0) || !Number.isFinite(rpm))
    throw new UsageError(
      `--rate must be a positive number of requests per minute (got "${flags.rate}")`,
    );
  return { maxRpm: rpm };
}

/**
 * Runs an ingest with display, summary and exit code, for `synap ingest` and `synap migrate`.
 * Either `inputs` (files, '-') or `records` (migrate). Returns the summary; sets
 * process.exitCode for 3/5/130 and throws the error of an aborted run (401/403 → 4, 402 → 6).
 */
export async function runIngest(
  globals: GlobalOptions,
  session: Session,
  flags: IngestFlags,
  source: { inputs: string[] } | { records: AsyncIterable<SourceRecord>; name: string },
): Promise<IngestSummary> {
  const options = ingestOptionsFromFlags(flags, session);
  const display = createIngestDisplay({
    quiet: globals.quiet || globals.json,
    color: globals.stderrColor,
  });
  const signals = abortOnSignals();
  const usesStdin = 'inputs' in source && source.inputs.includes('-');
  let summary: IngestSummary;
  try {
    summary = await ingest(
      {
        ...options,
        client: session.client,
        ...('inputs' in source
          ? { inputs: source.inputs }
          : { records: source.records, recordsName: source.name }),
        signal: signals.signal,
      },
      display,
    );
  } catch (err) {
    display.done();
    if (isIngestAborted(err)) {
      const started = err.summary.records_read > 0 || err.summary.resumed_past > 0;
      if (!globals.json && started)
        printIngestSummary(err.summary, { color: globals.stderrColor, quiet: globals.quiet });
      throw err.error;
    }
    throw err;
  } finally {
    signals.dispose();
    // A stdin that is still open would keep the process alive after a stop.
    if (usesStdin) process.stdin.destroy();
  }
  display.done();
  if (globals.json) await writeIngestSummaryJson(summary);
  else printIngestSummary(summary, { color: globals.stderrColor, quiet: globals.quiet });
  if (summary.exit_code !== 0) process.exitCode = summary.exit_code;
  return summary;
}

export async function ingestCommand(
  globals: GlobalOptions,
  inputs: string[],
  flags: IngestFlags,
): Promise<IngestSummary> {
  if (inputs.length === 0)
    throw new UsageError('ingest needs at least one input file, or - for stdin');
  if (inputs.filter((i) => i === '-').length > 1)
    throw new UsageError('stdin (-) can be given only once');
  if (flags.failures !== undefined && inputs.includes(flags.failures)) {
    throw new UsageError(`--failures ${flags.failures} is also an input; name another file`);
  }
  // Every input is checked before the first is sent, so a typo does not stop a run half-way.
  for (const input of inputs) if (input !== '-') await assertReadable(input);
  const session = await openSession(globals, {
    requireKey: flags.dryRun !== true,
    ...rateCap(flags),
  });
  try {
    return await runIngest(globals, session, flags, { inputs });
  } finally {
    await session.close();
  }
}

/** Adds the 'ingest' command to the program. */
export function register(program: Command): void {
  const cmd = program
    .command('ingest')
    .description('stream records from files (JSONL, CSV, TSV, JSON, gzip) or stdin into Synap')
    .argument('<inputs...>', 'input files, or - for stdin');
  addIngestOptions(cmd)
    .addHelpText(
      'after',
      `
Each record becomes one create request, sent in batches through one rate limiter per key.
Fields named like the API fields are used as they are (document, document_id, document_type,
document_created_at, user_id, customer_id, mode, metadata); --map renames; unmapped CSV
columns go into metadata. Without a document_id, a stable hash of the record is used, so
running a file again never creates duplicates (they come back as "skipped").

Failed records are printed (first 20) and written to <input>.failures.jsonl, which is itself
valid input: fix the lines and run 'synap ingest <input>.failures.jsonl'. A fresh run of an
input starts a fresh failures file; a resumed run appends to it.

Resume: progress is saved in <input>.synap-state.json at least once a second. After Ctrl-C, a
crash or kill -9, run the same command again to continue; changed input or options are
refused (--restart starts over). The state file is removed when the input is finished. Several
inputs are ingested one after the other, each with its own state file. stdin cannot be resumed.
A lock (<input>.synap-lock) keeps two runs off the same input: the second exits 5, or waits
with --wait-lock.

Exit codes: 0 all stored or skipped; 3 some records failed; 4 key refused; 5 stopped early
(--max-duration, --max-errors, --fail-fast, server failing, input locked), run again to
continue; 6 out of credits; 130 interrupted, run again to resume.

Examples:
  $ synap --local ingest samples/chat-transcripts.jsonl
  $ synap ingest tickets.csv --map document=body --document-type email
  $ zcat dump.jsonl.gz | synap ingest - --format jsonl
  $ synap ingest big.jsonl --max-duration 50m --rate 300  # cron; re-run resumes`,
    )
    .action(async (inputs: string[], flags: IngestFlags, command: Command) => {
      await ingestCommand(globalOptions(command), inputs, flags);
    });
}
