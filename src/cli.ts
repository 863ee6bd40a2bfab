import { Command, Option } from 'commander';
import { createRequire } from 'node:module';
import { loginCommand } from './commands/auth/login.js';
import { logoutCommand } from './commands/auth/logout.js';
import { statusCommand as authStatusCommand } from './commands/auth/status.js';
import { completeCommand, completionCommand } from './commands/completion.js';
import { balanceCommand } from './commands/credits/balance.js';
import { ledgerCommand } from './commands/credits/ledger.js';
import { getCommand as configGetCommand } from './commands/config/get.js';
import { listCommand as configListCommand } from './commands/config/list.js';
import { profilesCommand } from './commands/config/profiles.js';
import { setCommand } from './commands/config/set.js';
import { unsetCommand } from './commands/config/unset.js';
import { emulatorCommand } from './commands/emulator.js';
import { exportCommand } from './commands/export.js';
import { ingestCommand } from './commands/ingest.js';
import { deleteCommand } from './commands/memories/delete.js';
import { getCommand } from './commands/memories/get.js';
import { listCommand } from './commands/memories/list.js';
import { statusCommand } from './commands/memories/status.js';
import { updateCommand } from './commands/memories/update.js';
import { migrateCommand } from './commands/migrate.js';
import { SETTING_KEYS } from './config/store.js';
import { Runner, type CommandSpec } from './commands/run.js';
import { exitCodeAfterSignals } from './signals.js';
import { duration } from './commands/flags.js';
import { finishHelp } from './help.js';

const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };

/** A group of commands (`synap auth …`): a description and help, no action of its own. */
function group(program: Command, name: string, description: string, help: string): Command {
  return program.command(name).description(description).addHelpText('after', `\n${help}`);
}

/** Declares the program, its global options and every command; each action goes through `runner`. */
export function buildProgram(runner: Runner): Command {
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
    .option(
      '--max-retry-after <time>',
      'longest Retry-After to wait out (default 15m); longer stops (exit 5)',
      duration('--max-retry-after'),
    )
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
With --json every command prints one JSON document on stdout:
  {"status":"ok","result":{…}}
  {"status":"error","error":{"code","message","correlation_id","exit_code"}}
(synap export streams the memories themselves as JSON Lines; see 'synap export --help').

Examples:
  $ synap --local ingest samples/chat-transcripts.jsonl   try it with no account
  $ SYNAP_API_KEY=synap_... synap ingest tickets.csv --map document=body
  $ synap export -o backup.jsonl
  $ synap --json memories list | jq -r '.result.data[].memory_id'`,
    );

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const add = (parent: Command, name: string, spec: CommandSpec<any, any[], any>, hidden = false) =>
    spec.declare(parent.command(name, { hidden })).action(runner.action(spec));

  const auth = group(
    program,
    'auth',
    'store, check and forget API keys (per profile)',
    `Examples:
  $ synap auth login                   ask for the key (masked), verify, store
  $ printf %s "$KEY" | synap auth login --api-key-stdin --profile staging
  $ synap auth status --json`,
  );
  add(auth, 'login', loginCommand);
  add(auth, 'status', authStatusCommand);
  add(auth, 'logout', logoutCommand);

  const config = group(
    program,
    'config',
    'show and change per-profile defaults: base_url, batch_size, concurrency, mode, document_type, page_size',
    `Settings: ${SETTING_KEYS.join(', ')}. Stored in $SYNAP_CONFIG_DIR/config.json (default: the
user config dir, e.g. ~/.config/synap), mode 0600.

Examples:
  $ synap config set batch_size 50
  $ synap --profile staging config set base_url https://staging.example.com
  $ synap config list --all`,
  );
  add(config, 'list', configListCommand);
  add(config, 'get', configGetCommand);
  add(config, 'set', setCommand);
  add(config, 'unset', unsetCommand);
  // Used by the shell completion scripts to offer profile names.
  add(config, 'profiles', profilesCommand, true);

  const memories = group(
    program,
    'memories',
    'list, inspect, update and delete memories; check ingestion status',
    `Examples:
  $ synap memories list --page-size 50
  $ synap memories get 3f0c9d2e-...
  $ synap memories status 9b1e... --wait`,
  );
  add(memories, 'list', listCommand);
  add(memories, 'get', getCommand);
  add(memories, 'update', updateCommand);
  add(memories, 'delete', deleteCommand);
  add(memories, 'status', statusCommand);

  const credits = group(
    program,
    'credits',
    'show the credit balance and the ledger of what was granted and spent',
    `Without a subcommand: the balance. An ingest asks for an estimate against the balance
before it sends anything (see 'synap ingest --help').

Examples:
  $ synap credits
  $ synap credits ledger --entry-type usage --limit 50
  $ synap --json credits | jq .result.balance_credits`,
  );
  balanceCommand
    .declare(credits.command('balance', { isDefault: true }))
    .action(runner.action(balanceCommand));
  add(credits, 'ledger', ledgerCommand);

  add(program, 'ingest', ingestCommand);
  add(program, 'export', exportCommand);
  add(program, 'migrate', migrateCommand);
  add(program, 'emulator', emulatorCommand);
  add(program, 'completion', completionCommand());
  add(program, '__complete', completeCommand(program), true);

  // Commands throw instead of exiting, and usage errors are printed like every other error.
  const quiet = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: () => {} });
    cmd.commands.forEach(quiet);
  };
  quiet(program);
  finishHelp(program);
  return program;
}

/** Runs the CLI and returns its exit code. Every failure ends in the runner's fail(). */
export async function run(argv: string[]): Promise<number> {
  const runner = new Runner();
  const program = buildProgram(runner);
  try {
    await program.parseAsync(argv);
    return runner.exitCode;
  } catch (err) {
    return runner.fail(err, program);
  }
}

/** The process entry point: the one place the process's exit code is set. */
export async function main(argv: string[]): Promise<void> {
  // A SIGTERM stop is reported as 130 by the command and exits 143.
  process.exitCode = exitCodeAfterSignals(await run(argv));
}
