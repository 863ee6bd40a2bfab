import { Argument, type Command } from 'commander';
import { complete, formatCompletion } from '../completion/complete.js';
import { bashScript, fishScript, zshScript } from '../completion/scripts.js';
import { writeOut } from '../output/messages.js';
import type { CommandSpec as RunnableCommand } from './run.js';

const SCRIPTS = { bash: bashScript, zsh: zshScript, fish: fishScript };

/** `synap completion bash|zsh|fish`: the script for the shell. */
export function completionCommand(): RunnableCommand<Record<string, never>, [string], string> {
  return {
    declare: (cmd: Command) =>
      cmd
        .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(Object.keys(SCRIPTS)))
        .addHelpText(
          'after',
          `
The script asks synap itself what to offer at each Tab, so it stays right as synap changes.

Examples:
  $ synap completion bash > ~/.local/share/bash-completion/completions/synap
  $ synap completion zsh > "\${fpath[1]}/_synap"
  $ synap completion fish > ~/.config/fish/completions/synap.fish`,
        ),
    // The argument's choices are the scripts' shells: commander refuses any other before run().
    async run(_ctx, _opts, shell) {
      return { result: SCRIPTS[shell as keyof typeof SCRIPTS]() };
    },
    render: (script) => writeOut(script),
  };
}

/** The hidden `synap __complete -- <words>` the completion scripts call at each Tab. */
export function completeCommand(
  program: Command,
): RunnableCommand<Record<string, never>, [string[]], string> {
  return {
    declare: (cmd: Command) =>
      cmd
        .argument('[words...]', 'the words after "synap", the one being completed last')
        .allowUnknownOption()
        .helpOption(false),
    async run(_ctx, _opts, words = []) {
      const found = await complete(program, words.length > 0 ? words : ['']);
      return { result: formatCompletion(found).trimEnd() };
    },
    render: (text) => writeOut(text),
  };
}
