import type { Command } from 'commander';
import { openSession, type Session } from '../config/session.js';
import { UsageError } from '../errors.js';
import { exportRecords, type ExportSourceRecord } from '../export/records.js';
import { abortOnSignals } from '../signals.js';
import { globalOptions, type GlobalOptions } from '../global-options.js';
import { warn } from '../output/messages.js';
import { exportPageSize, parsePageSize } from './export.js';
import { addIngestOptions, rateCap, runIngest, type IngestFlags } from './ingest.js';

/** Flags of `synap migrate`: where from, where to, the export side, and the ingest options. */
export interface MigrateCommandOptions {
  from: string;
  to: string;
  pageSize?: number;
  onlyUserId?: string;
  onlyCustomerId?: string;
  /** Everything else is an ingest option, handed to the ingest pipeline as given. */
  [ingestOption: string]: unknown;
}

/** Refuses a migration onto itself: it would send every memory back as a duplicate. */
export function checkDistinct(from: Session, to: Session): void {
  if (from.profile === to.profile || (from.baseUrl === to.baseUrl && from.apiKey === to.apiKey)) {
    throw new UsageError(
      `--from ${from.profile} and --to ${to.profile} are the same instance and key; nothing to migrate`,
      { hints: ['Name two profiles with different credentials (see synap auth login --profile).'] },
    );
  }
}

/**
 * The records of the source export, as ingest reads them: each memory as it was listed, in
 * order. The export's completeness warnings (total changed, possible skips) go to stderr.
 */
export function migrationRecords(
  from: Session,
  opts: { pageSize: number; userId?: string; customerId?: string; signal: AbortSignal },
): AsyncIterable<ExportSourceRecord> {
  let warned = 0;
  return exportRecords(from.client, {
    pageSize: opts.pageSize,
    ...(opts.userId !== undefined ? { userId: opts.userId } : {}),
    ...(opts.customerId !== undefined ? { customerId: opts.customerId } : {}),
    source: `export of profile ${from.profile}`,
    signal: opts.signal,
    onPage: ({ tally }) => {
      for (const c of tally.totalChanges.slice(warned)) {
        warn(
          `the number of memories in ${from.profile} changed during the migration: ` +
            `${c.previous} → ${c.current} (page ${c.page}); re-run migrate when it is quiet ` +
            'to pick up any that were skipped (already copied ones are skipped)',
        );
      }
      warned = tally.totalChanges.length;
    },
  });
}

/**
 * Streams the export of `from` into the ingest pipeline of `to`. Kept in one place so the
 * hand-over to src/ingest is a single call.
 */
export async function runMigrate(
  globals: GlobalOptions,
  opts: MigrateCommandOptions,
): Promise<void> {
  if (!opts.from || !opts.to)
    throw new UsageError('migrate needs --from <profile> and --to <profile>');
  if (globals.local) {
    throw new UsageError(
      '--local cannot be used with migrate: name two profiles with --from and --to',
    );
  }
  const from = await openSession(globals, { profile: opts.from });
  let to: Session | undefined;
  const signals = abortOnSignals();
  try {
    to = await openSession(globals, { profile: opts.to, ...rateCap(opts as IngestFlags) });
    checkDistinct(from, to);
    const records = migrationRecords(from, {
      pageSize: exportPageSize(opts.pageSize, from.defaults.page_size),
      ...(opts.onlyUserId !== undefined ? { userId: opts.onlyUserId } : {}),
      ...(opts.onlyCustomerId !== undefined ? { customerId: opts.onlyCustomerId } : {}),
      signal: signals.signal,
    });
    await runIngest(globals, to, opts as IngestFlags, {
      records,
      name: `export of profile ${from.profile}`,
    });
  } finally {
    signals.dispose();
    await to?.close();
    await from.close();
  }
}

/** Adds the 'migrate' command to the program. */
export function register(program: Command): void {
  const cmd = program
    .command('migrate')
    .description('copy every memory of one profile into another (export streamed into ingest)')
    .requiredOption('--from <profile>', 'profile to read from (its own key and base URL)')
    .requiredOption('--to <profile>', 'profile to write to (its own key and base URL)')
    .option('--page-size <n>', 'memories per list request on the source, 1-100', parsePageSize)
    .option('--only-user-id <id>', 'migrate only memories of this user')
    .option('--only-customer-id <id>', 'migrate only memories of this customer');
  addIngestOptions(cmd, true)
    .addHelpText(
      'after',
      `
Each memory keeps its content, user and customer ids, creation time and metadata; its id on the
source becomes the document_id on the target, so running migrate again copies only what is new
(already copied memories come back as duplicates and count as skipped). No temporary file is
written. Exit codes are those of 'synap ingest'.

Examples:
  $ synap migrate --from staging --to prod
  $ synap migrate --from staging --to prod --only-user-id u_42 --dry-run
  $ synap --json migrate --from old --to new --rate 300 > migration-summary.json`,
    )
    .action(async (opts: MigrateCommandOptions, cmd: Command) => {
      await runMigrate(globalOptions(cmd), opts);
    });
}
