import { Command } from 'commander';
import { declared } from './commands/lazy.js';
import { UsageError } from './errors.js';
import { writeHelp } from './output/help.js';

/**
 * Help that reads the same everywhere: every command lists the global options too (they can be
 * given after the command), prose wraps to the terminal (80 columns in a pipe), and
 * `synap help <command> <subcommand>` shows the subcommand's help.
 */

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

/**
 * What every command gets, also those declared later (see commands/lazy.ts): errors are thrown
 * instead of exiting and printed by the runner like every other error; help lists the global
 * options and is wrapped to the terminal.
 */
export function finishCommand(cmd: Command): void {
  for (const c of allCommands(cmd)) {
    c.exitOverride();
    c.configureOutput({
      outputError: () => {},
      writeOut: writeHelp,
    });
    c.configureHelp({ ...c.configureHelp(), showGlobalOptions: true });
  }
}

/** Adds `synap help [command...]` and applies finishCommand to the program. */
export function finishHelp(program: Command): void {
  const help = new Command('help')
    .description('show help for a command, e.g. synap help memories list')
    .argument('[command...]', 'the command and subcommand to explain')
    .action(async (path: string[]) => {
      let target: Command = program;
      for (const name of path) {
        const next = target.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!next) {
          throw new UsageError(
            `unknown command "${[...path.slice(0, path.indexOf(name)), name].join(' ')}"`,
            { hints: ["Run 'synap --help' to see the commands."] },
          );
        }
        target = await declared(next);
      }
      target.help();
    });
  program.addCommand(help);
  finishCommand(program);
}
