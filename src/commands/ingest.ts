import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { assertReadable } from '../ingest/readers/index.js';
import type { IngestSummary } from '../ingest/summary.js';
import { printIngestSummary } from '../output/ingest-summary.js';
import { declareIngestOptions, type IngestFlags } from './ingest-options.js';
import {
  dryRunCredits,
  ingestRetryPolicy,
  ingestRunOptions,
  ingestWithDisplay,
  prepareIngest,
} from './ingest-run.js';
import type { CommandSpec } from './run.js';

/** `synap ingest <inputs...>`: stream records from files or stdin into Synap. */
export const ingestCommand: CommandSpec<IngestFlags, [string[]], IngestSummary> = {
  declare: (cmd: Command) =>
    declareIngestOptions(
      cmd
        .description('stream records from files (JSONL, CSV, TSV, JSON, gzip) or stdin into Synap')
        .argument('<inputs...>', 'input files, or - for stdin'),
    ).addHelpText(
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

Exit codes: 0 all stored or skipped; 2 bad usage (also: customer ids for a B2C instance);
3 some records failed; 4 key refused; 5 stopped early (--max-duration, --max-errors,
--fail-fast, server failing, input locked), run again to continue; 6 out of credits (402,
a credit stop, or the estimate exceeds the balance), run again once topped up; 130
interrupted, run again to resume.

Examples:
  $ synap --local ingest samples/chat-transcripts.jsonl
  $ synap ingest tickets.csv --map document=body --document-type email
  $ zcat dump.jsonl.gz | synap ingest - --format jsonl
  $ synap ingest big.jsonl --max-duration 50m --rate 300  # cron; re-run resumes
  $ synap --json ingest data.jsonl | jq .result.failed`,
    ),

  async run(ctx, flags, inputs) {
    if (inputs.filter((i) => i === '-').length > 1)
      throw new UsageError('stdin (-) can be given only once');
    if (flags.failures !== undefined && inputs.includes(flags.failures)) {
      throw new UsageError(`--failures ${flags.failures} is also an input; name another file`);
    }
    // Every input is checked before the first is sent, so a typo does not stop a run half-way.
    for (const input of inputs) if (input !== '-') await assertReadable(input);
    const session = await ctx.session({
      requireKey: flags.dryRun !== true,
      ...flags.rate,
      retry: ingestRetryPolicy(flags),
    });
    const { b2c, credits } = await prepareIngest(session, flags, {
      inputs,
      quiet: ctx.globals.quiet || ctx.globals.json,
    });
    const outcome = await ingestWithDisplay(ctx.globals, () => ({
      ...ingestRunOptions(flags, session, b2c),
      inputs,
    }));
    const check = flags.dryRun ? await dryRunCredits(session, flags, outcome.result) : credits;
    if (check) outcome.result.credits = check;
    if (check?.note && flags.dryRun) (outcome.warnings ??= []).push(check.note);
    return outcome;
  },

  render: (summary, view) =>
    printIngestSummary(summary, { quiet: view.quiet, color: view.stderrColor }),
};
