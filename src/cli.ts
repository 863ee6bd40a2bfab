import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import { CliError, ExitCode } from './errors.js';
import { globalOptions } from './global-options.js';
import { finishHelp } from './help.js';
import { printError } from './output/errors.js';
import * as auth from './commands/auth.js';
import * as config from './commands/config.js';
import * as memories from './commands/memories.js';
import * as ingest from './commands/ingest.js';
import * as exportCommand from './commands/export.js';
import * as migrate from './commands/migrate.js';
import * as emulator from './commands/emulator.js';
import * as completion from './commands/completion.js';

const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };

/** Builds the whole command tree. Each command module adds its own subcommands. */
export function buildProgram(): Command {
  const program = new Command('synap')
    .description("Move data into and out of Synap, Maximem's memory service for AI agents.")
    .version(version, '-V, --version')
    .option('--profile <name>', 'config profile (env SYNAP_PROFILE)')
    .option('--base-url <url>', 'API base URL (env SYNAP_BASE_URL)')
    .option('--local', 'use the embedded local Synap emulator (no account needed)')
    .option('--json', 'machine-readable output on stdout; implies --no-input')
    .option('-q, --quiet', 'no progress output; errors still go to stderr')
    .option('-v, --verbose', 'one stderr line per HTTP request')
    .option('--no-input', 'never prompt (automatic without a TTY or with CI set)')
    .addOption(new Option('--no-color', 'no colours (NO_COLOR is honoured too)'))
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      // Usage errors are printed by printError so they look like every other error.
      outputError: () => {},
    })
    .addHelpText(
      'after',
      `
Examples:
  $ synap --local ingest samples/chat-transcripts.jsonl   try it with no account
  $ SYNAP_API_KEY=synap_... synap ingest tickets.csv --map document=body
  $ synap export -o backup.jsonl`,
    );

  for (const mod of [
    auth,
    config,
    memories,
    ingest,
    exportCommand,
    migrate,
    emulator,
    completion,
  ]) {
    mod.register(program);
  }
  // Sub-commands throw instead of exiting, so errors reach run() below.
  const applyExitOverride = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: () => {} });
    cmd.commands.forEach(applyExitOverride);
  };
  program.commands.forEach(applyExitOverride);
  finishHelp(program);
  return program;
}

/**
 * Runs the CLI and returns the process exit code. This is the one place where errors become
 * messages and exit codes (product.md §4).
 */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.OK;
  } catch (err) {
    return handleError(err, program);
  }
}

function handleError(err: unknown, program: Command): number {
  if (err instanceof CommanderError) {
    // --help and --version end through here too, successfully.
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    ) {
      return ExitCode.OK;
    }
    if (err.code === 'commander.executeSubCommandAsync') return err.exitCode;
    const usage = new CliError(err.message.replace(/^error: /, ''), {
      exitCode: ExitCode.USAGE,
      hints: ["Run 'synap --help' (or 'synap <command> --help') for usage."],
    });
    printError(usage, { json: safeJson(program) });
    return ExitCode.USAGE;
  }
  printError(err, { json: safeJson(program), verbose: safeVerbose(program) });
  return err instanceof CliError ? err.exitCode : ExitCode.FAILURE;
}

function safeJson(program: Command): boolean {
  try {
    return globalOptions(program).json;
  } catch {
    return false;
  }
}

function safeVerbose(program: Command): boolean {
  try {
    return globalOptions(program).verbose;
  } catch {
    return false;
  }
}
