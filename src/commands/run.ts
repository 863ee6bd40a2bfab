import { CommanderError, type Command } from 'commander';
import { takeConfigNotices } from '../config/notices.js';
import { CliError, ExitCode, PartialResultError, UsageError } from '../errors.js';
import { globalOptions, type GlobalOptions } from '../global-options.js';
import type { View } from '../output/view.js';
import { CommandLine } from '../command-line.js';
import type { OpenSessionOptions, Session } from '../session.js';

/** What a command's run() hands back: its result, and an exit code when it is not plain success. */
export interface Outcome<R> {
  result: R;
  /** 3 partial, 5 stopped, 130 interrupted, 1 e.g. an unset config value; default 0. */
  exitCode?: ExitCode;
  /** Shown on stderr (even with --json or --quiet) before the result. */
  warnings?: string[];
  /** The runner waits for this after showing the result (a server that runs until Ctrl-C). */
  until?: () => Promise<void>;
}

interface CommandContext {
  globals: GlobalOptions;
  /** The command line as the user typed it, for hints that suggest it again changed. */
  commandLine: CommandLine;
  /** Opens a session (profile, key, client); every session is closed when the command ends. */
  session(opts?: OpenSessionOptions): Promise<Session>;
}

/**
 * A command: its options (declared on the commander command), what it does (returns data),
 * and how its result looks to people. Positional arguments come after the options.
 */
export interface CommandSpec<O = Record<string, unknown>, A extends unknown[] = [], R = unknown> {
  /** Description, arguments, options and help text. */
  declare(cmd: Command): Command;
  run(ctx: CommandContext, opts: O, ...args: A): Promise<Outcome<R>>;
  render(result: R, view: View): void | Promise<void>;
  /** After `until` ended (human output only). */
  renderEnd?(result: R, view: View): void | Promise<void>;
  /** Where the --json envelope goes: stderr when stdout carries the data (export to stdout). */
  envelopeTo?(opts: O): 'stdout' | 'stderr';
}

/** How a command's results are drawn, from the global options. */
export function viewOf(globals: GlobalOptions, commandLine: CommandLine): View {
  return {
    color: globals.color,
    stderrColor: globals.stderrColor,
    quiet: globals.quiet,
    commandLine,
  };
}

/** A command of any options, arguments and result (the runner and the program hold them all). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySpec = CommandSpec<any, any[], any>;

/**
 * Runs commands: session → run() → result printed as the `--json` envelope or by render(),
 * and the exit code. `fail()` is the one place an error becomes output and an exit code.
 */
export class Runner {
  exitCode: ExitCode = ExitCode.OK;
  private current:
    { spec: AnySpec; opts: unknown; globals: GlobalOptions; commandLine: CommandLine } | undefined;
  private readonly sessions: Session[] = [];
  /** --verbose shows the retry policy once, whatever the number of sessions (migrate has two). */
  private policyShown = false;

  /** `argv`: the words after the program name, as the user typed them (for hints). */
  constructor(private readonly argv: readonly string[] = []) {}

  /** The commander action of `spec`. */
  action(spec: AnySpec): (...args: unknown[]) => Promise<void> {
    return async (...args) => {
      const cmd = args[args.length - 1] as Command;
      const opts = args[args.length - 2];
      const globals = globalOptions(cmd);
      const commandLine = CommandLine.parse(this.argv, cmd);
      this.current = { spec, opts, globals, commandLine };
      const view = viewOf(globals, commandLine);
      const ctx: CommandContext = {
        globals,
        commandLine,
        session: (o) => this.openSession(globals, o),
      };
      try {
        if (globals.local && globals.baseUrlFlag) {
          // Two different servers asked for: refuse rather than pick one silently.
          throw new UsageError('--local and --base-url cannot be used together', {
            hints: [
              '--local talks to the embedded emulator; --base-url to a Synap server. Keep one.',
            ],
          });
        }
        const outcome = await spec.run(ctx, opts, ...args.slice(0, -2));
        const { warn } = await import('../output/messages.js');
        for (const w of [...takeConfigNotices(), ...(outcome.warnings ?? [])]) warn(w);
        if (globals.json) {
          const { writeEnvelope } = await import('../output/json.js');
          await writeEnvelope({ status: 'ok', result: outcome.result }, this.envelopeStream());
        } else {
          await spec.render(outcome.result, view);
        }
        if (outcome.until) {
          await outcome.until();
          if (!globals.json) await spec.renderEnd?.(outcome.result, view);
        }
        this.exitCode = outcome.exitCode ?? ExitCode.OK;
      } finally {
        await this.closeSessions();
      }
    };
  }

  private async openSession(globals: GlobalOptions, o?: OpenSessionOptions): Promise<Session> {
    const { openSession } = await import('../session.js');
    const session = await openSession(globals, o);
    this.sessions.push(session);
    const { warn } = await import('../output/messages.js');
    for (const w of [...takeConfigNotices(), ...session.warnings]) warn(w);
    if (globals.verbose && !this.policyShown) {
      this.policyShown = true;
      const { writeRetryPolicyLine } = await import('../output/retry-policy.js');
      writeRetryPolicyLine(session.client.retryPolicy);
    }
    return session;
  }

  private async closeSessions(): Promise<void> {
    for (const s of this.sessions.splice(0).reverse()) await s.close();
  }

  private envelopeStream(): NodeJS.WritableStream {
    const c = this.current;
    return c?.spec.envelopeTo?.(c.opts) === 'stderr' ? process.stderr : process.stdout;
  }

  /**
   * Turns any failure (a usage error from commander, an error thrown by a command) into the
   * error line on stderr, the `--json` error envelope and the exit code. A command ended by an
   * error after part of its work (PartialResultError) shows that part first.
   */
  async fail(err: unknown, program: Command): Promise<ExitCode> {
    await this.closeSessions();
    if (err instanceof CommanderError) {
      // --help and --version end through here too, successfully.
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) {
        return ExitCode.OK;
      }
      err = new UsageError(err.message.replace(/^error: /, ''), {
        hints: ["Run 'synap --help' (or 'synap <command> --help') for usage."],
      });
    }
    const globals = this.current?.globals ?? globalOptions(program);
    const { warn } = await import('../output/messages.js');
    for (const w of takeConfigNotices()) warn(w);
    let cause = err;
    if (err instanceof PartialResultError) {
      cause = err.cause;
      if (!globals.json && this.current && err.partial !== undefined) {
        await this.current.spec.render(err.partial, viewOf(globals, this.current.commandLine));
      }
    }
    const { errorEnvelope, printError } = await import('../output/errors.js');
    printError(cause, { verbose: globals.verbose });
    // The envelope cannot go where the error was writing (a full disk under stdout): the
    // line on stderr and the exit code say it all.
    if (globals.json) {
      const { writeEnvelope } = await import('../output/json.js');
      await writeEnvelope(errorEnvelope(cause), this.envelopeStream()).catch(() => false);
    }
    return cause instanceof CliError ? cause.exitCode : ExitCode.FAILURE;
  }
}
