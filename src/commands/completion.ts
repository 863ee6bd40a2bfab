import { Argument, type Command, type Option } from 'commander';
import { UsageError } from '../errors.js';
import { writeOut } from '../output/messages.js';
import type { CommandSpec as RunnableCommand } from './run.js';

/**
 * Shell completion scripts generated from the commander tree itself, so they never drift from
 * the real commands and options. Profile names are read when completing, through the hidden
 * `synap config profiles` command, so newly added profiles show up without regenerating.
 */

interface CommandSpec {
  /** Space-separated path below `synap`, '' for the root. */
  path: string;
  description: string;
  subcommands: { name: string; description: string }[];
  options: {
    flags: string[];
    takesValue: boolean;
    choices?: readonly string[];
    description: string;
  }[];
}

/** Options whose value is a profile name. */
const PROFILE_OPTIONS = ['--profile', '--from', '--to'];

function visible(cmd: Command): boolean {
  return !(cmd as unknown as { _hidden?: boolean })._hidden;
}

function optionSpec(o: Option): CommandSpec['options'][number] {
  const flags = [o.short, o.long].filter((f): f is string => typeof f === 'string');
  return {
    flags,
    takesValue: o.required || o.optional,
    ...(o.argChoices ? { choices: o.argChoices } : {}),
    description: o.description,
  };
}

function collect(cmd: Command, path: string, out: CommandSpec[]): void {
  const options = cmd.options.filter((o) => !o.hidden).map(optionSpec);
  options.push({ flags: ['-h', '--help'], takesValue: false, description: 'show help' });
  const subs = cmd.commands.filter(visible);
  out.push({
    path,
    description: cmd.description(),
    subcommands: subs.map((c) => ({ name: c.name(), description: c.description() })),
    options,
  });
  for (const c of subs) collect(c, path ? `${path} ${c.name()}` : c.name(), out);
}

export function commandSpecs(program: Command): CommandSpec[] {
  const out: CommandSpec[] = [];
  collect(program, '', out);
  return out;
}

function shellWords(words: string[]): string {
  return words.join(' ');
}

function valueOptions(specs: CommandSpec[]): string[] {
  const set = new Set<string>();
  for (const s of specs)
    for (const o of s.options) if (o.takesValue) o.flags.forEach((f) => set.add(f));
  return [...set].sort();
}

export function bashScript(program: Command): string {
  const specs = commandSpecs(program);
  const root = specs[0]!;
  const globalFlags = root.options.flatMap((o) => o.flags);
  const paths = specs.filter((s) => s.path !== '').map((s) => `" ${s.path}"`);
  const choiceCases = specs
    .flatMap((s) => s.options.filter((o) => o.choices).map((o) => ({ o, s })))
    .map(({ o }) => `    ${o.flags.join('|')}) words="${shellWords([...(o.choices ?? [])])}" ;;`);
  const subCases = specs
    .filter((s) => s.subcommands.length > 0)
    .map(
      (s) =>
        `    "${s.path ? ` ${s.path}` : ''}") subs="${shellWords(s.subcommands.map((c) => c.name))}" ;;`,
    );
  const optionCases = specs.map((s) => {
    const flags = [...s.options.flatMap((o) => o.flags), ...(s.path === '' ? [] : globalFlags)];
    return `    "${s.path ? ` ${s.path}` : ''}") opts="${shellWords([...new Set(flags)])}" ;;`;
  });
  const valueFlags = valueOptions(specs);
  return `# synap bash completion. Install: synap completion bash > ~/.local/share/bash-completion/completions/synap
_synap_complete() {
  local cur prev path i w words subs opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev=""
  [ "$COMP_CWORD" -gt 0 ] && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${PROFILE_OPTIONS.join('|')})
      COMPREPLY=( $(compgen -W "$(command synap config profiles 2>/dev/null)" -- "$cur") )
      return 0 ;;
  esac
  words=""
  case "$prev" in
${choiceCases.join('\n')}
  esac
  if [ -n "$words" ]; then
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
    return 0
  fi
  case "$prev" in
    ${valueFlags.join('|')}) COMPREPLY=( $(compgen -f -- "$cur") ); return 0 ;;
  esac
  path=""
  for (( i=1; i<COMP_CWORD; i++ )); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    case "\${COMP_WORDS[i-1]}" in ${valueFlags.join('|')}) continue ;; esac
    case "$path $w" in
      ${paths.join('|')}) path="$path $w" ;;
    esac
  done
  subs=""
  opts=""
  case "$path" in
${subCases.join('\n')}
  esac
  case "$path" in
${optionCases.join('\n')}
  esac
  # Options when the word starts with "-", else subcommands, else file names (inputs).
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [ -n "$subs" ]; then
    COMPREPLY=( $(compgen -W "$subs" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
  return 0
}
complete -F _synap_complete synap
`;
}

export function zshScript(program: Command): string {
  // zsh runs the bash function through bashcompinit: one implementation, same behaviour.
  return `#compdef synap
# synap zsh completion. Install: synap completion zsh > "\${fpath[1]}/_synap" (or eval it in ~/.zshrc)
autoload -U +X bashcompinit && bashcompinit
${bashScript(program)}`;
}

function fishEscape(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function fishScript(program: Command): string {
  const specs = commandSpecs(program);
  const lines = [
    '# synap fish completion. Install: synap completion fish > ~/.config/fish/completions/synap.fish',
    'complete -c synap -f',
    // The command path typed so far, without options.
    'function __synap_path',
    '  set -l words (commandline -opc)',
    '  set -e words[1]',
    '  string join " " (string match -v -- "-*" $words)',
    'end',
  ];
  for (const s of specs) {
    const cond =
      s.path === ''
        ? `test -z (__synap_path)`
        : `string match -q -- ${fishEscape(`${s.path}*`)} (__synap_path)`;
    for (const c of s.subcommands) {
      lines.push(
        `complete -c synap -n ${fishEscape(s.path === '' ? '__fish_use_subcommand' : `test (__synap_path) = ${fishEscape(s.path).replace(/'/g, '"')}`)} -a ${fishEscape(c.name)} -d ${fishEscape(c.description)}`,
      );
    }
    for (const o of s.options) {
      const parts = ['complete -c synap'];
      if (s.path !== '') parts.push(`-n ${fishEscape(cond)}`);
      for (const f of o.flags) {
        if (f.startsWith('--')) parts.push(`-l ${f.slice(2)}`);
        else parts.push(`-s ${f.slice(1)}`);
      }
      if (o.takesValue) parts.push('-r');
      if (o.flags.some((f) => PROFILE_OPTIONS.includes(f))) {
        parts.push(`-x -a ${fishEscape('(synap config profiles 2>/dev/null)')}`);
      } else if (o.choices) {
        parts.push(`-x -a ${fishEscape(o.choices.join(' '))}`);
      }
      parts.push(`-d ${fishEscape(o.description)}`);
      lines.push(parts.join(' '));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `synap completion bash|zsh|fish`: the script for the whole command tree of `program`. */
export function completionCommand(
  program: Command,
): RunnableCommand<Record<string, never>, [string], string> {
  return {
    declare: (cmd: Command) =>
      cmd
        .description('print a shell completion script (commands, options, profile names)')
        .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
        .addHelpText(
          'after',
          `
Examples:
  $ synap completion bash > ~/.local/share/bash-completion/completions/synap
  $ synap completion zsh > "\${fpath[1]}/_synap"
  $ synap completion fish > ~/.config/fish/completions/synap.fish`,
        ),
    async run(_ctx, _opts, shell) {
      switch (shell) {
        case 'bash':
          return { result: bashScript(program) };
        case 'zsh':
          return { result: zshScript(program) };
        case 'fish':
          return { result: fishScript(program) };
        default:
          throw new UsageError(`unsupported shell "${shell}" (bash, zsh or fish)`);
      }
    },
    render: (script) => writeOut(script),
  };
}
