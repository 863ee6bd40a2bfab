import type { Command } from 'commander';
import { MAX_PAGE_SIZE } from '../client/types.js';
import { openSession } from '../config/session.js';
import { UsageError } from '../errors.js';
import { runExport, type ExportSummary } from '../export/run-export.js';
import { abortOnSignals } from '../signals.js';
import { globalOptions, type GlobalOptions } from '../global-options.js';
import {
  createExportDisplay,
  printExportSummary,
  writeExportSummaryJson,
} from '../output/export-progress.js';

export const DEFAULT_EXPORT_PAGE_SIZE = 100;

export interface ExportCommandOptions {
  output?: string;
  pageSize?: number;
  userId?: string;
  customerId?: string;
  restart?: boolean;
}

export function parsePageSize(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_PAGE_SIZE) {
    throw new UsageError(
      `--page-size must be a whole number from 1 to ${MAX_PAGE_SIZE} (got "${raw}")`,
    );
  }
  return n;
}

/** Page size from the flag, else the profile's page_size (capped at the API maximum), else 100. */
export function exportPageSize(
  flag: number | undefined,
  profileDefault: number | undefined,
): number {
  if (flag !== undefined) return flag;
  if (profileDefault !== undefined && Number.isInteger(profileDefault) && profileDefault >= 1) {
    return Math.min(profileDefault, MAX_PAGE_SIZE);
  }
  return DEFAULT_EXPORT_PAGE_SIZE;
}

export async function exportCommand(
  globals: GlobalOptions,
  opts: ExportCommandOptions,
): Promise<ExportSummary> {
  const toFile = opts.output !== undefined && opts.output !== '-';
  if (opts.restart && !toFile)
    throw new UsageError('--restart needs -o FILE (only a file export can be resumed)');
  const session = await openSession(globals);
  const display = createExportDisplay({ quiet: globals.quiet, color: globals.stderrColor });
  const signals = abortOnSignals();
  try {
    const summary = await runExport(
      {
        client: session.client,
        baseUrl: session.baseUrl,
        pageSize: exportPageSize(opts.pageSize, session.defaults.page_size),
        ...(opts.userId !== undefined ? { userId: opts.userId } : {}),
        ...(opts.customerId !== undefined ? { customerId: opts.customerId } : {}),
        destination: toFile
          ? { kind: 'file', path: opts.output! }
          : { kind: 'stream', stream: process.stdout },
        restart: opts.restart === true,
        signal: signals.signal,
      },
      display,
    );
    display.done();
    return summary;
  } catch (err) {
    display.done();
    throw err;
  } finally {
    signals.dispose();
    await session.close();
  }
}

/** Adds the 'export' command to the program. */
export function register(program: Command): void {
  program
    .command('export')
    .description('write every memory as JSON Lines (one memory per line) to stdout or a file')
    .option('-o, --output <file>', 'write to FILE (resumable) instead of stdout')
    .option(
      '--page-size <n>',
      `memories per list request, 1-${MAX_PAGE_SIZE} (default 100)`,
      parsePageSize,
    )
    .option('--user-id <id>', 'only memories of this user')
    .option('--customer-id <id>', 'only memories of this customer')
    .option('--restart', 'with -o: ignore an unfinished export of FILE and start over')
    .addHelpText(
      'after',
      `
Each line is one memory with every field the API returned; the file is valid input for
'synap ingest'. With -o FILE, progress is checkpointed in FILE.synap-state.json: running the
same command again after a failure, Ctrl-C or kill continues where it stopped (no duplicate
lines); the state file is removed when the export completes.

Output: the memories go to stdout (or FILE); progress, warnings and the summary go to stderr.
With --json the summary is a JSON object: on stdout when -o FILE is used (stdout carries no
data then), otherwise on stderr so stdout stays pure JSON Lines.

Examples:
  $ synap export -o backup.jsonl                  nightly; re-run to resume
  $ synap export --user-id u_42 | jq -r .content  one user's memories, piped
  $ synap export --profile staging | synap ingest --profile prod -`,
    )
    .action(async (opts: ExportCommandOptions, cmd: Command) => {
      const globals = globalOptions(cmd);
      const summary = await exportCommand(globals, opts);
      const toFile = opts.output !== undefined && opts.output !== '-';
      if (globals.json) {
        writeExportSummaryJson(summary, toFile ? process.stdout : process.stderr);
      } else {
        printExportSummary(summary, { quiet: globals.quiet, color: globals.stderrColor });
      }
    });
}
