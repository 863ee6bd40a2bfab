import { Command } from 'commander';
import { declared } from './commands/lazy.js';
import { UsageError } from './errors.js';

/**
 * Help that reads the same everywhere: every command lists the global options too (they can be
 * given after the command), prose wraps to the terminal (80 columns in a pipe), and
 * `synap help <command> <subcommand>` shows the subcommand's help.
 */

function helpWidth(): number {
  const out = process.stdout as NodeJS.WriteStream;
  return out.isTTY && out.columns > 0 ? out.columns : 80;
}

function wrap(words: string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else {
      line = line === '' ? w : `${line} ${w}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * Re-wraps the prose paragraphs of help text that run past `width`. A paragraph is a run of
 * lines that start at the margin; indented lines (option lists, examples) are kept as they are.
 */
export function fitHelpText(text: string, width: number): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.some((l) => l.length > width)) {
      out.push(...wrap(paragraph.join(' ').split(/\s+/).filter(Boolean), width));
    } else {
      out.push(...paragraph);
    }
    paragraph = [];
  };
  for (const line of lines) {
    const prose = line !== '' && !/^\s/.test(line);
    if (prose) {
      paragraph.push(line);
      // A heading ("Examples:") ends its paragraph.
      if (line.endsWith(':')) flush();
    } else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out.join('\n');
}

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
      writeOut: (text: string) => process.stdout.write(fitHelpText(text, helpWidth())),
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
