import type { Command } from 'commander';
import { systemClock } from '../clock.js';
import { MAX_PAGE_SIZE } from '../client/types.js';
import { ExitCode, UsageError } from '../errors.js';
import type { MigrateState } from '../export/migrate-state.js';
import { exportPageSize } from '../export/page-size.js';
import type { IngestSummary } from '../ingest/summary.js';
import { warn } from '../output/messages.js';
import type { Session } from '../session.js';
import { abortOnSignals } from '../signals.js';
import { integer } from './flags.js';
import type { RunLedger } from './ingest-ledger.js';
import { declareIngestOptions, renderIngestSummary, type IngestFlags } from './ingest-options.js';
import type { CommandSpec } from './run.js';

/** Flags of `synap migrate`: where from, where to, the export side, and the ingest options. */
interface MigrateFlags extends IngestFlags {
  from: string;
  to: string;
  pageSize?: number;
  onlyUserId?: string;
  onlyCustomerId?: string;
}

/**
 * Refuses a migration onto itself: it would send every memory back as a duplicate. Instances
 * are compared by what the server says it is (whoami's instance_id), not by URL: `localhost`
 * and `127.0.0.1`, or two DNS names, may be one instance.
 */
async function checkDistinct(from: Session, to: Session): Promise<void> {
  const same = (why: string) =>
    new UsageError(
      `--from ${from.profile} and --to ${to.profile} are the same instance (${why}); nothing to migrate`,
      { hints: ['Name two profiles of different instances (see synap auth login --profile).'] },
    );
  if (from.profile === to.profile) throw same('the same profile');
  if (from.baseUrl === to.baseUrl && from.apiKey === to.apiKey) throw same('same URL and key');
  const [a, b] = await Promise.all([from.client.whoami(), to.client.whoami()]);
  const idA = a.data?.instance_id;
  if (typeof idA === 'string' && idA !== '' && idA === b.data?.instance_id) {
    throw same(`instance id ${idA} behind ${from.baseUrl} and ${to.baseUrl}`);
  }
}

/**
 * `synap migrate --from A --to B`: the export of A streamed into the ingest of B, no file in
 * between; A's memories go back into their source documents under A's document_ids
 * (src/export/source-documents.ts), so a re-run, or a nightly job moved to B, copies only what
 * is new. State in the state directory (src/export/migrate-state.ts) lets a stopped run go on.
 */
export const migrateCommand: CommandSpec<MigrateFlags, [], IngestSummary> = {
  declare: (cmd: Command) =>
    declareIngestOptions(
      cmd
        .description('copy every memory of one profile into another (export streamed into ingest)')
        .requiredOption('--from <profile>', 'profile to read from (its own key and base URL)')
        .requiredOption('--to <profile>', 'profile to write to (its own key and base URL)')
        .option(
          '--page-size <n>',
          `memories per list request on the source, 1-${MAX_PAGE_SIZE}`,
          integer('--page-size', 1, MAX_PAGE_SIZE),
        )
        .option('--only-user-id <id>', 'migrate only memories of this user')
        .option('--only-customer-id <id>', 'migrate only memories of this customer')
        .option('--restart', 'ignore the saved progress of a stopped migration and start over')
        .option(
          '--wait-lock',
          'wait for a running migration of the same profiles to finish instead of stopping',
        ),
      true,
    ).addHelpText(
      'after',
      `
The memories of each source document become that document again on the target, under the
source's document_id and dated by the source document's own time; every other field is kept in
metadata.synap_export. A nightly job that ingested into the source finds its documents on the
target too (skipped, not created again), and running migrate again copies only what is new.
Progress is kept in the state directory: a run stopped by --max-duration, Ctrl-C or a failure
is continued by the same command (--restart starts over). After the last page the source is
listed again to send what changed under the paging; exit 3 when that cannot be shown complete.
No temporary file of memories is written. Exit codes are those of 'synap ingest'.

Examples:
  $ synap migrate --from staging --to prod
  $ synap migrate --from staging --to prod --only-user-id u_42 --dry-run
  $ synap --json migrate --from old --to new --rate 300 > migration-summary.json`,
    ),

  async run(ctx, flags) {
    if (ctx.globals.local) {
      throw new UsageError(
        '--local cannot be used with migrate: name two profiles with --from and --to',
      );
    }
    // Loaded when the command runs, not when it is declared (see cli.ts).
    const [
      { migrateRecords },
      { SentLog },
      { openMigrateState },
      { ingestRetryPolicy, prepareIngest },
      { ingestRunOptions, ingestWithDisplay },
    ] = await Promise.all([
      import('../export/migrate-records.js'),
      import('../export/sent-log.js'),
      import('../export/migrate-state.js'),
      import('./ingest-preflight.js'),
      import('./ingest-run.js'),
    ]);
    const from = await ctx.session({ profile: flags.from });
    const to = await ctx.session({
      profile: flags.to,
      ...flags.rate,
      retry: ingestRetryPolicy(flags),
    });
    // The summary's requests, 429s and elapsed time include the target's pre-flight, and so
    // does --max-duration.
    const since = { at: systemClock.now(), stats: to.client.stats() };
    await checkDistinct(from, to);
    const { instance } = await prepareIngest(to, flags, {
      quiet: ctx.globals.quiet || ctx.globals.json,
    });
    const name = `export of profile ${from.profile}`;
    const pageSize = exportPageSize(flags.pageSize, from.defaults.page_size);
    const runOptions = ingestRunOptions(flags, to, instance);
    // The ingest's state and what was sent, in the state directory: a run stopped by
    // --max-duration (or anything else) is continued by the next one. Ctrl-C while --wait-lock
    // waits for another run of the pair ends this one as an interruption (130).
    const signals = abortOnSignals({ message: 'interrupted before anything was sent' });
    let saved: MigrateState | undefined;
    try {
      saved = flags.dryRun
        ? undefined
        : await openMigrateState({
            from: { instanceId: from.client.identity?.instanceId ?? '', baseUrl: from.baseUrl },
            to: { instanceId: to.client.identity?.instanceId ?? '', baseUrl: to.baseUrl },
            pageSize,
            userId: flags.onlyUserId ?? null,
            customerId: flags.onlyCustomerId ?? null,
            name,
            runOptions,
            restart: flags.restart === true,
            explicitFailures: flags.failures,
            profile: to.profile,
            waitLock: flags.waitLock === true,
            signal: signals.signal,
          });
    } finally {
      signals.dispose();
    }
    let warned = 0;
    let verified: { passes: number; recovered: number; shown: boolean } | undefined;
    let sent: ReturnType<typeof SentLog.inMemory> | undefined;
    let ledger: RunLedger | undefined;
    let outcome;
    try {
      const log = saved ? SentLog.open(saved.sentPath, saved.settledLine) : SentLog.inMemory();
      sent = log;
      // What the target holds (the ledger): documents it holds as the source does are not sent.
      const { openMigrateLedger } = await import('./ingest-ledger.js');
      ledger = await openMigrateLedger(from, to, { resend: flags.resend === true });
      outcome = await ingestWithDisplay(ctx.globals, (signal) => ({
        ...runOptions,
        records: migrateRecords(from.client, {
          pageSize,
          userId: flags.onlyUserId,
          customerId: flags.onlyCustomerId,
          source: name,
          signal,
          after: saved?.settledLine ?? 0,
          sent: log,
          onPage: ({ pass, tally }) => {
            if (pass > 0) return;
            for (const c of tally.totalChanges.slice(warned)) {
              warn(
                `the number of memories in ${from.profile} changed during the migration: ` +
                  `${c.previous} → ${c.current} (page ${c.page}); the listing is read again at ` +
                  'the end to send what was missed',
              );
            }
            warned = tally.totalChanges.length;
          },
          onVerified: (v) => (verified = v),
        }),
        recordsName: name,
        recordsState: saved?.recordsState,
        ledger: ledger?.view,
        since,
      }));
    } finally {
      ledger?.close();
      sent?.close();
      await saved?.lock.release();
    }
    if (verified && verified.recovered > 0) {
      warn(
        `${verified.recovered} memories of ${from.profile} were missed by the paging (the source ` +
          'changed while it was read) and found by listing again; they were sent too',
      );
    }
    if (verified && !verified.shown && outcome.exitCode === 0) {
      warn(
        `could not show that every memory of ${from.profile} was migrated: after ` +
          `${verified.passes} verification pass(es) its listing still changed or its totals did ` +
          'not add up; run migrate again when the source is quiet (what was sent is skipped)',
      );
      return { ...outcome, exitCode: ExitCode.PARTIAL };
    }
    return outcome;
  },

  // What failed is retried by ingesting the failures file into the target profile.
  render: (summary, view) =>
    renderIngestSummary(summary, view, (files, line) => ({
      command: ['ingest'],
      args: files,
      drop: [
        '--from',
        '--to',
        '--page-size',
        '--only-user-id',
        '--only-customer-id',
        '--failures',
        '--restart',
        '--wait-lock',
      ],
      set: { '--profile': line.value('--to') ?? 'default' },
    })),
};
