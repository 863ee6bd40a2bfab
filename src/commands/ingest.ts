import type { Command } from 'commander';
import { systemClock } from '../clock.js';
import { UsageError } from '../errors.js';
import { formatLabels, formatsHelp } from '../ingest/formats/index.js';
import { filesOfShard, resolveShard, shardLabel } from '../ingest/shard.js';
import type { ShardReport } from '../ingest/shard-report.js';
import type { IngestSummary } from '../ingest/summary.js';
import type { EntriesEvent } from '../ingest/readers/zip.js';
import { declareIngestOptions, renderIngestSummary, type IngestFlags } from './ingest-options.js';
import type { CommandSpec } from './run.js';
import type { Session } from '../session.js';

/** `synap ingest <inputs...>`: stream records from files or stdin into Synap. */
export const ingestCommand: CommandSpec<IngestFlags, [string[]], IngestSummary | ShardReport> = {
  declare: (cmd: Command) =>
    declareIngestOptions(
      cmd
        .description(
          `stream records from files (${formatLabels()}; gzip, zips and folders of them) or stdin into Synap`,
        )
        .argument('[inputs...]', 'input files, or - for stdin (or name them with --files-from)'),
    ).addHelpText(
      'after',
      `
Formats (--format; by default from the file name, and by content for a .json):
${formatsHelp()}

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
refused (--restart starts over). A plain JSON Lines file resumes by seeking to where it stopped;
gzip input is decompressed again up to that point (and CSV or JSON arrays scanned again), but
nothing settled is sent twice. stdin cannot be resumed. The state file is removed when the
input is finished. Several inputs are ingested one after the other, each with its own state file.
A lock (<input>.synap-lock) keeps two runs off the same input: the second exits 5, or waits
with --wait-lock.

Credits: before sending, the service's estimate for the run is asked and shown with the
balance; when it exceeds the balance nothing is sent (exit 6; --yes sends anyway). --dry-run
shows the estimate for exactly what it would send. A batch that failed in a way that may have
stored it (timeout, reset) is sent again only when all its documents have a document_id;
--on-ambiguous fail never resends and records them as OUTCOME_UNKNOWN.

Sharding (several machines or jobs, one key): --shard i/n sends only the records whose
document_id hashes to i (numbered from 0), at 1/n of the key's rate limit; --shards n takes i
from JOB_COMPLETION_INDEX. Each shard has its own state, lock and failures files
(<input>.shard-i-of-n.…) and leaves <input>.shard-i-of-n.synap-done.json when finished;
--shard-report merges them.

Exit codes: 0 all stored or skipped; 2 bad usage (also: customer ids for a B2C instance);
3 some records failed; 4 key refused; 5 stopped early (--max-duration, --max-errors,
--fail-fast, server failing, input locked), run again to continue; 6 out of credits (402,
a credit stop, or the estimate exceeds the balance), run again once topped up; 130
interrupted, run again to resume.

Examples:
  $ synap --local ingest samples/chat-transcripts.jsonl
  $ synap ingest tickets.csv --map document=body --document-type email
  $ zcat dump.jsonl.gz | synap ingest - --format jsonl
  $ synap ingest chatgpt-export.zip --show 2   # ChatGPT/Claude: docs/sources.md
  $ synap ingest exports/                      # the files in a folder
  $ synap ingest big.jsonl --max-duration 50m --rate 300  # cron; re-run resumes
  $ synap --json ingest data.jsonl | jq .result.failed
  $ synap ingest big.jsonl --shard 2/8            # one of 8 machines
  $ synap ingest --files-from list.txt --shard-by file --shard 2/8
  $ synap ingest big.jsonl --shards 8 --shard-report`,
    ),

  async run(ctx, flags, args) {
    if (flags.filesFrom === '-' && args.includes('-')) {
      throw new UsageError(
        '--files-from - reads the list from stdin, so stdin (-) cannot be an input too',
      );
    }
    // Loaded when the command runs, not when it is declared (see cli.ts).
    const [{ assertReadable }, { readFilesFrom }, { checkFailuresFlag, realInputs }] =
      await Promise.all([
        import('../ingest/readers/index.js'),
        import('../ingest/files-from.js'),
        import('../ingest/run-files.js'),
      ]);
    const named = [...args, ...(flags.filesFrom ? await readFilesFrom(flags.filesFrom) : [])];
    // A folder stands for the files in it that a format claims (containers.ts).
    const inputs: string[] = [];
    const folders: EntriesEvent[] = [];
    // Each file found in a folder, with its path inside that folder (notes' ids are these).
    const entryNames = new Map<string, string>();
    // And the folder it was found in: nothing is written into a user's folder (run-files.ts).
    const folderOf = new Map<string, string>();
    for (const input of named) {
      if (input !== '-' && (await isFolder(input))) {
        const { folderInputs } = await import('../ingest/containers.js');
        const folder = await folderInputs(input, flags.format);
        inputs.push(...folder.files);
        folders.push(folder.entries);
        for (const [file, name] of folder.names) entryNames.set(file, name);
        for (const file of folder.files) folderOf.set(file, input);
      } else inputs.push(input);
    }
    if (inputs.length === 0) {
      throw new UsageError('no inputs: name input files, - for stdin, or --files-from LIST');
    }
    if (flags.shardReport) {
      const { shardReport } = await import('../ingest/shard-report.js');
      const report = await shardReport({
        inputs,
        folderOf,
        count: flags.shards ?? flags.shard?.count,
        by: flags.shardBy ?? 'record',
      });
      return { result: report, exitCode: report.exit_code };
    }
    if (inputs.filter((i) => i === '-').length > 1)
      throw new UsageError('stdin (-) can be given only once');
    // Compared by real path: `./data.jsonl`, an absolute path or a symlink name the same file.
    if (flags.failures !== undefined)
      await checkFailuresFlag(flags.failures, await realInputs(inputs));
    const shard = resolveShard({ shard: flags.shard, shards: flags.shards, by: flags.shardBy });
    const mine = shard?.by === 'file' ? filesOfShard(inputs, shard) : inputs;
    // Every input is checked before the first is sent, so a typo does not stop a run half-way.
    for (const input of mine) if (input !== '-') await assertReadable(input);
    const { dryRunCredits, ingestRetryPolicy, prepareIngest, recountCredits } =
      await import('./ingest-preflight.js');
    const session = await ctx.session({
      requireKey: flags.dryRun !== true,
      ...flags.rate,
      retry: ingestRetryPolicy(flags),
      // n shards run at once on one key: each takes 1/n of its limit, and what the others
      // leave, unless --rate says otherwise.
      ...(shard && shard.count > 1 && flags.rate === undefined ? { peers: shard.count } : {}),
    });
    // The summary's requests, 429s and elapsed time include the pre-flight's, and so does
    // --max-duration; on the run's clock, as the pipeline's own time.
    const since = { at: systemClock.now(), stats: session.client.stats() };
    // The pipeline's modules load while whoami and the credit estimate are in flight.
    const pipeline = import('./ingest-run.js');
    pipeline.catch(() => {});
    const { heldByLedger, openRunLedger } = await import('./ingest-ledger.js');
    const preflight = prepareIngest(session, flags, {
      inputs: mine,
      // A record shard sends about 1/n of what its inputs hold.
      share: shard && shard.by !== 'file' ? 1 / shard.count : undefined,
      quiet: ctx.globals.quiet || ctx.globals.json,
      // What the ledger holds of an input it remembers finished is not in the estimate.
      ...(flags.resend !== true && !(shard && shard.by !== 'file')
        ? { held: heldByLedger(session, () => runShapeHash(pipeline, flags, session)) }
        : {}),
    });
    // So does the ledger's SQLite (better-sqlite3), which a run with a key uses for every record.
    if (session.apiKey !== '' && flags.resend !== true)
      import('../ledger/ledger.js').catch(() => {});
    const { instance, credits: estimated, recount } = await preflight;
    const { countToSend, ingestRunOptions, ingestWithDisplay } = await pipeline;
    const ledger = await openRunLedger(session, { resend: flags.resend === true });
    const options = () => ({
      ...ingestRunOptions(flags, session, instance),
      inputs: mine,
      entryNames,
      folderOf,
      containers: folders,
      shard,
      ledger: ledger?.view,
      since,
    });
    let credits = estimated;
    let outcome: Awaited<ReturnType<typeof ingestWithDisplay>>;
    try {
      // An estimate over the balance that may be over is counted exactly before it can stop
      // the run: a dry pass with the ledger (what would be sent), only in that case.
      if (recount) {
        credits = await recountCredits(session, flags, () => countToSend(options()), {
          quiet: ctx.globals.quiet || ctx.globals.json,
          estimated,
        });
      }
      outcome = await ingestWithDisplay(ctx.globals, options);
    } finally {
      ledger?.close();
    }
    const check = flags.dryRun ? await dryRunCredits(session, flags, outcome.result) : credits;
    if (check) outcome.result.credits = check;
    if (check?.note && flags.dryRun) (outcome.warnings ??= []).push(check.note);
    if (shard?.by === 'file' && mine.length === 0) {
      const none = `no input file belongs to shard ${shardLabel(shard)} (of ${inputs.length} split by file)`;
      return { ...outcome, warnings: [...(outcome.warnings ?? []), none] };
    }
    return outcome;
  },

  render: async (result, view) =>
    isShardReport(result)
      ? (await import('../output/shard-report.js')).printShardReport(result, view)
      : renderIngestSummary(result, view),
};

/** The hash of the request shape a run with these flags reads its inputs with (state files'). */
async function runShapeHash(
  pipeline: Promise<typeof import('./ingest-run.js')>,
  flags: IngestFlags,
  session: Session,
): Promise<string> {
  const { ingestRunOptions } = await pipeline;
  const { requestShape } = await import('../ingest/options.js');
  const { hashMapping } = await import('../ingest/checkpointer.js');
  return hashMapping(requestShape(ingestRunOptions(flags, session)));
}

function isShardReport(r: IngestSummary | ShardReport): r is ShardReport {
  return (r as ShardReport).report === 'shards';
}

async function isFolder(path: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}
