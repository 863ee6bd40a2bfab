import { Command, Option, type CommandOptions } from 'commander';
import { declared, declareLater } from './commands/lazy.js';
import { Runner, type AnySpec } from './commands/run.js';
import { printVersionFlag } from './commands/version.js';
import { exitCodeAfterSignals, onSecondSignal } from './signals.js';
import { duration } from './commands/flags.js';
import { finishCommand, finishHelp } from './help.js';

/*
 * Startup: `synap --help` and every command pay for building the program, so it stays small.
 * This file names the top-level commands with their one-line descriptions and imports nothing
 * of theirs: each command's declaration (options, arguments, subcommands, help) is imported
 * when that command is used (declareLater), and a command's run() and render() import what
 * running needs (the session and client, conf, @inquirer, cli-table3, csv-parse, the
 * emulator) with `await import(...)`. A new command: one entry below, with
 * `command(name, description, () => import('./commands/<name>.js').then((m) => m.<spec>))`.
 * test/e2e/startup.test.ts fails when `synap --help` loads a package other than commander;
 * `node bench/run.js --only startup` measures the time.
 */

/** Thrown when -V/--version is read among other arguments: run() prints the version. */
class VersionAsked extends Error {}

/** Declares the program and its commands; each command's action goes through `runner`. */
export function buildProgram(runner: Runner): Command {
  const program = new Command('synap')
    .description("Move data into and out of Synap, Maximem's memory service for AI agents.")
    .addOption(new Option('-V, --version', "print the version (with --json: 'synap version')"))
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

  /** Declares `spec` on `cmd` and runs it through the runner. */
  const attach = (cmd: Command, spec: AnySpec) => spec.declare(cmd).action(runner.action(spec));

  /** A top-level command whose declaration `load` imports when the command is used. */
  const command = (
    name: string,
    description: string,
    load: () => Promise<AnySpec>,
    opts: { hidden?: boolean } = {},
  ) => {
    // The summary is what `synap --help` lists; a command may declare a longer description.
    const cmd = program
      .command(name, { hidden: opts.hidden ?? false })
      .summary(description)
      .description(description);
    declareLater(cmd, async () => {
      attach(cmd, await load());
      finishCommand(cmd);
    });
  };

  /** A group of commands (`synap auth …`): its help and subcommands are loaded when it is used. */
  const group = (
    name: string,
    description: string,
    help: string | (() => Promise<string>),
    subs: [name: string, load: () => Promise<AnySpec>, opts?: CommandOptions][],
  ) => {
    const cmd = program.command(name).description(description);
    declareLater(cmd, async () => {
      const [text, specs] = await Promise.all([
        typeof help === 'string' ? help : help(),
        Promise.all(subs.map(([, load]) => load())),
      ]);
      cmd.addHelpText('after', text);
      subs.forEach(([sub, , opts], i) => attach(cmd.command(sub, opts), specs[i]!));
      finishCommand(cmd);
    });
  };

  group(
    'auth',
    'store, check and forget API keys (per profile)',
    `
Examples:
  $ synap auth login                   ask for the key (masked), verify, store
  $ printf %s "$KEY" | synap auth login --api-key-stdin --profile staging
  $ synap auth status --json`,
    [
      ['login', () => import('./commands/auth/login.js').then((m) => m.loginCommand)],
      ['status', () => import('./commands/auth/status.js').then((m) => m.statusCommand)],
      ['logout', () => import('./commands/auth/logout.js').then((m) => m.logoutCommand)],
    ],
  );

  group(
    'config',
    'show and change per-profile defaults: base_url, batch_size, concurrency, mode, document_type, page_size',
    async () => `
Settings: ${(await import('./config/settings.js')).SETTING_KEYS.join(', ')}. Stored in $SYNAP_CONFIG_DIR/config.json (default: the
user config dir, e.g. ~/.config/synap), mode 0600.

Examples:
  $ synap config set batch_size 50
  $ synap --profile staging config set base_url https://staging.example.com
  $ synap config list --all`,
    [
      ['list', () => import('./commands/config/list.js').then((m) => m.listCommand)],
      ['get', () => import('./commands/config/get.js').then((m) => m.getCommand)],
      ['set', () => import('./commands/config/set.js').then((m) => m.setCommand)],
      ['unset', () => import('./commands/config/unset.js').then((m) => m.unsetCommand)],
      // Used by the shell completion scripts to offer profile names.
      [
        'profiles',
        () => import('./commands/config/profiles.js').then((m) => m.profilesCommand),
        { hidden: true },
      ],
    ],
  );

  group(
    'memories',
    'list, inspect, update and delete memories; check ingestion status',
    `
Examples:
  $ synap memories list --page-size 50
  $ synap memories get 3f0c9d2e-...
  $ synap memories status 9b1e... --wait`,
    [
      ['list', () => import('./commands/memories/list.js').then((m) => m.listCommand)],
      ['get', () => import('./commands/memories/get.js').then((m) => m.getCommand)],
      ['update', () => import('./commands/memories/update.js').then((m) => m.updateCommand)],
      ['delete', () => import('./commands/memories/delete.js').then((m) => m.deleteCommand)],
      ['status', () => import('./commands/memories/status.js').then((m) => m.statusCommand)],
    ],
  );

  group(
    'credits',
    'show the credit balance and the ledger of what was granted and spent',
    `
Without a subcommand: the balance. An ingest asks for an estimate against the balance
before it sends anything (see 'synap ingest --help').

Examples:
  $ synap credits
  $ synap credits ledger --entry-type usage --limit 50
  $ synap --json credits | jq .result.balance_credits`,
    [
      [
        'balance',
        () => import('./commands/credits/balance.js').then((m) => m.balanceCommand),
        { isDefault: true },
      ],
      ['ledger', () => import('./commands/credits/ledger.js').then((m) => m.ledgerCommand)],
    ],
  );

  group(
    'ledger',
    'show, forget or rebuild what each instance holds (a repeated ingest sends only changes)',
    `
An ingest records, per instance, each document_id the service accepted with a hash of its
body (in the state directory, e.g. ~/.local/state/synap/ledger.sqlite). A later run sends a
record only when its id is new or its body changed; --resend sends everything for one run.

Examples:
  $ synap ledger status
  $ synap ledger forget           the next ingest sends everything again
  $ synap ledger rebuild          a new machine: learn what the instance holds`,
    [
      ['status', () => import('./commands/ledger/status.js').then((m) => m.statusCommand)],
      ['forget', () => import('./commands/ledger/forget.js').then((m) => m.forgetCommand)],
      ['rebuild', () => import('./commands/ledger/rebuild.js').then((m) => m.rebuildCommand)],
    ],
  );

  command(
    'ingest',
    'stream records and exported history from files, zips, folders or stdin into Synap',
    () => import('./commands/ingest.js').then((m) => m.ingestCommand),
  );
  command(
    'export',
    'write every memory as JSON Lines (one memory per line) to stdout or a file',
    () => import('./commands/export.js').then((m) => m.exportCommand),
  );
  command(
    'migrate',
    'copy every memory of one profile into another (export streamed into ingest)',
    () => import('./commands/migrate.js').then((m) => m.migrateCommand),
  );
  command('emulator', 'run a local Synap-compatible server (SQLite) for trying and testing', () =>
    import('./commands/emulator.js').then((m) => m.emulatorCommand),
  );
  command(
    'doctor',
    'check the set-up: config, key, server, rate limit, credits, clock, directories',
    () => import('./commands/doctor.js').then((m) => m.doctorCommand),
  );
  command('version', 'show the version, the Node.js runtime, the platform and the build', () =>
    import('./commands/version.js').then((m) => m.versionCommand),
  );
  command(
    'completion',
    'print a shell completion script (commands, options, values, profile names)',
    () => import('./commands/completion.js').then((m) => m.completionCommand()),
  );
  command(
    '__complete',
    'print completions for a command line (used by the completion scripts)',
    () => import('./commands/completion.js').then((m) => m.completeCommand(program)),
    { hidden: true },
  );

  // Commands throw instead of exiting, and usage errors are printed like every other error.
  program.hook('preSubcommand', async (_program, subcommand) => {
    await declared(subcommand);
  });
  program.on('option:version', () => {
    throw new VersionAsked();
  });
  finishHelp(program);
  return program;
}

/** Runs the CLI and returns its exit code. Every failure ends in the runner's fail(). */
export async function run(argv: string[]): Promise<number> {
  const runner = new Runner(argv.slice(2));
  const program = buildProgram(runner);
  try {
    await program.parseAsync(argv);
    return runner.exitCode;
  } catch (err) {
    if (err instanceof VersionAsked) {
      const args = argv.slice(2);
      const end = args.indexOf('--');
      await printVersionFlag((end === -1 ? args : args.slice(0, end)).includes('--json'));
      return 0;
    }
    return runner.fail(err, program);
  }
}

/** Runs the CLI as the process does, for src/index.ts to exit with the code it returns. */
export async function main(argv: string[]): Promise<number> {
  // A second Ctrl-C or SIGTERM ends the process at once (130 or 143).
  onSecondSignal((code) => process.exit(code));
  // A SIGTERM stop is reported as 130 by the command and exits 143.
  return exitCodeAfterSignals(await run(argv));
}
