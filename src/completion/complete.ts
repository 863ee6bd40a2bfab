import { type Command, type Option } from 'commander';
import { DOCUMENT_TYPES, MODES } from '../client/types.js';
import { findOption, lineage } from '../command-line.js';
import { declared } from '../commands/lazy.js';
import { INPUT_FORMATS } from '../ingest/formats/index.js';

/**
 * Shell completion. The scripts for bash, zsh and fish are thin: at each Tab they ask the CLI
 * itself (`synap __complete -- <words>`), which reads the real commander tree, so completion
 * never drifts from the commands, options and values, and all three shells offer the same.
 * File and directory names are left to the shell, which completes them natively (quoting,
 * a "/" and no trailing space after a directory).
 */

/** Options whose value is a profile name (read from the config store when completing). */
const PROFILE_OPTIONS = ['--profile', '--from', '--to'];

/** Values of options that take a free-form string the CLI still knows the useful values of. */
const OPTION_VALUES: Record<string, readonly string[]> = {
  '--format': INPUT_FORMATS,
};

/** Values of `config set <key> <value>` for settings with a fixed set. */
const SETTING_VALUES: Record<string, readonly string[]> = {
  mode: MODES,
  document_type: DOCUMENT_TYPES,
};

interface Candidate {
  value: string;
  description?: string;
}

/**
 * What to offer for the word being completed: fixed values, or file or directory names for the
 * shell to list itself, or nothing (free text such as an id).
 */
export type Completion =
  { kind: 'values'; values: Candidate[] } | { kind: 'files' } | { kind: 'dirs' } | { kind: 'none' };

function visibleCommands(cmd: Command): Command[] {
  return cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
}

function values(list: readonly string[], description?: string): Completion {
  return described(list.map((value) => [value, description]));
}

/** Values each with its own description. */
function described(pairs: [string, string | undefined][]): Completion {
  return {
    kind: 'values',
    values: pairs.map(([value, description]) => (description ? { value, description } : { value })),
  };
}

async function profileNames(): Promise<string[]> {
  try {
    const { openStore } = await import('../config/store.js');
    return (await openStore()).profileNames();
  } catch {
    return [];
  }
}

async function optionValues(o: Option): Promise<Completion> {
  const long = o.long ?? '';
  if (PROFILE_OPTIONS.includes(long)) return values(await profileNames(), 'profile');
  if (o.argChoices) return values(o.argChoices);
  const known = OPTION_VALUES[long];
  if (known) return values(known);
  // The placeholder in the flags says what the value is: <file>, <path>, <dir>.
  if (/<(file|path|inputs?)\b/i.test(o.flags)) return { kind: 'files' };
  if (/<dir/i.test(o.flags)) return { kind: 'dirs' };
  return { kind: 'none' };
}

async function argumentValues(
  cmd: Command,
  position: number,
  previous: string[],
): Promise<Completion> {
  if (cmd.parent?.name() === 'config' && ['get', 'set', 'unset'].includes(cmd.name())) {
    if (position === 0) return values((await import('../config/settings.js')).SETTING_KEYS);
    const known = SETTING_VALUES[previous[0] ?? ''];
    return known ? values(known) : { kind: 'none' };
  }
  const args = cmd.registeredArguments;
  const last = args[args.length - 1];
  const arg = args[position] ?? (last?.variadic ? last : undefined);
  if (!arg) return { kind: 'none' };
  if (arg.argChoices) return values(arg.argChoices);
  if (/input|file|path/i.test(arg.name())) return { kind: 'files' };
  return { kind: 'none' };
}

/**
 * Completes the last of `words` (the command line after `synap`, the word under the cursor
 * last, possibly empty): walks the earlier words through the command tree, skipping options
 * and their values, then offers subcommands, options, option values or argument values.
 */
export async function complete(program: Command, words: string[]): Promise<Completion> {
  let cmd = program;
  const positional: string[] = [];
  let pending: Option | undefined;
  let operandsOnly = false;
  const done = words.slice(0, -1);
  const current = words[words.length - 1] ?? '';
  for (const w of done) {
    if (pending) {
      pending = undefined;
      continue;
    }
    if (!operandsOnly && w === '--') {
      operandsOnly = true;
      continue;
    }
    if (!operandsOnly && w.startsWith('-') && w !== '-') {
      const [flag] = w.split('=', 1);
      const o = findOption(cmd, flag!);
      // An option with a mandatory value takes the next word (unless given as --opt=value).
      if (o?.required && !w.includes('=')) pending = o;
      continue;
    }
    const sub = positional.length === 0 ? cmd.commands.find((c) => c.name() === w) : undefined;
    if (sub) {
      cmd = await declared(sub);
      continue;
    }
    positional.push(w);
  }
  if (pending) return optionValues(pending);
  if (!operandsOnly && current.startsWith('-')) {
    // Each flag once, the command's own first: flag → description.
    const flags = new Map<string, string>();
    for (const o of lineage(cmd).flatMap((c) => c.options.filter((opt) => !opt.hidden))) {
      for (const flag of [o.long, o.short])
        if (flag && !flags.has(flag)) flags.set(flag, o.description);
    }
    for (const flag of ['--help', '-h']) if (!flags.has(flag)) flags.set(flag, 'show help');
    return described([...flags]);
  }
  const subs = visibleCommands(cmd);
  if (subs.length > 0 && positional.length === 0) {
    return described(subs.map((c) => [c.name(), c.description()]));
  }
  return argumentValues(cmd, positional.length, positional);
}

/** The answer of `synap __complete` read by the scripts: a directive line, then candidates. */
export function formatCompletion(c: Completion): string {
  if (c.kind !== 'values') return `:${c.kind}\n`;
  const lines = c.values.map((v) =>
    v.description ? `${v.value}\t${v.description.replace(/\s+/g, ' ')}` : v.value,
  );
  return `:values\n${lines.map((l) => `${l}\n`).join('')}`;
}
