import type { Command } from 'commander';
import { MAX_PAGE_SIZE } from '../client/types.js';
import { ExitCode, UsageError } from '../errors.js';
import { exportPageSize } from '../export/page-size.js';
import type { ExportSummary } from '../export/run-export.js';
import { abortOnSignals } from '../signals.js';
import { integer } from './flags.js';
import type { CommandSpec } from './run.js';

interface ExportFlags {
  output?: string;
  pageSize?: number;
  userId?: string;
  customerId?: string;
  restart?: boolean;
  force?: boolean;
}

const toFile = (flags: ExportFlags) => flags.output !== undefined && flags.output !== '-';

/**
 * `synap export`: every memory as JSON Lines on stdout or in `-o FILE`. stdout carries the data
 * itself (no envelope), so with --json the summary envelope goes to stderr unless -o is used.
 */
export const exportCommand: CommandSpec<ExportFlags, [], ExportSummary> = {
  declare: (cmd: Command) =>
    cmd
      .option('-o, --output <file>', 'write to FILE (resumable) instead of stdout')
      .option(
        '--page-size <n>',
        `memories per list request, 1-${MAX_PAGE_SIZE} (default 100)`,
        integer('--page-size', 1, MAX_PAGE_SIZE),
      )
      .option('--user-id <id>', 'only memories of this user')
      .option('--customer-id <id>', 'only memories of this customer')
      .option('--restart', 'with -o: ignore an unfinished export of FILE and start over')
      .option(
        '--force',
        'with -o: replace FILE even when it is not a finished export of this instance',
      )
      .addHelpText(
        'after',
        `
Each line is one memory with every field the API returned; the file is valid input for
'synap ingest'. With -o FILE the export is written to FILE.synap-export-partial and renamed over
FILE only when complete, so a failed or interrupted export leaves the previous FILE as it was;
progress is checkpointed in FILE.synap-export-state.json: running the same command again after a
failure, Ctrl-C or kill continues where it stopped (no duplicate lines). A finished export is
noted in the state directory: the next export of the same instance replaces that FILE without
asking, unless FILE was changed since. Any other existing FILE is kept unless --force.

After the last page the listing is read again to find memories the paging skipped while the
service changed them (they are appended); when no pass shows the export complete, exit 3.

Output: the memories go to stdout (or FILE); progress, warnings and the summary go to stderr.
With --json the summary is the envelope {"status":"ok","result":{…}}: on stdout when -o FILE
is used (stdout carries no data then), otherwise on stderr so stdout stays pure JSON Lines.

Examples:
  $ synap export -o backup.jsonl                  re-run it to resume
  $ synap export -o backup.jsonl                  nightly: replaces last night's
  $ synap export --user-id u_42 | jq -r .content  one user's memories, piped
  $ synap --json export -o backup.jsonl | jq .result.memories
  $ synap export --profile staging | synap ingest --profile prod -`,
      ),

  async run(ctx, flags) {
    if (flags.restart && !toFile(flags))
      throw new UsageError('--restart needs -o FILE (only a file export can be resumed)');
    if (flags.force && !toFile(flags)) throw new UsageError('--force needs -o FILE');
    const session = await ctx.session();
    const { runExport } = await import('../export/run-export.js');
    const { createExportDisplay } = await import('../output/export-progress.js');
    const display = createExportDisplay({
      quiet: ctx.globals.quiet,
      color: ctx.globals.stderrColor,
    });
    const signals = abortOnSignals();
    try {
      // Whose export this is: a finished export of the same instance is replaced without --force.
      const identity = toFile(flags)
        ? await session.client.identify({ signal: signals.signal })
        : undefined;
      const summary = await runExport(
        {
          client: session.client,
          baseUrl: session.stateUrl,
          instanceId: identity?.instanceId ? identity.instanceId : null,
          pageSize: exportPageSize(flags.pageSize, session.defaults.page_size),
          userId: flags.userId,
          customerId: flags.customerId,
          destination: toFile(flags)
            ? { kind: 'file', path: flags.output! }
            : { kind: 'stream', stream: process.stdout },
          restart: flags.restart === true,
          force: flags.force === true,
          signal: signals.signal,
        },
        display,
      );
      // An export that cannot vouch for holding every memory is partial (exit 3).
      return { result: summary, exitCode: summary.partial ? ExitCode.PARTIAL : ExitCode.OK };
    } finally {
      display.done();
      signals.dispose();
    }
  },

  render: async (summary, view) =>
    (await import('../output/export-progress.js')).printExportSummary(summary, {
      quiet: view.quiet,
      color: view.stderrColor,
    }),
  envelopeTo: (flags) => (toFile(flags) ? 'stdout' : 'stderr'),
};
