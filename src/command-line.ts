import type { Command, Option } from 'commander';

/**
 * The user's own command line, read against the command tree, so that a hint ("next page: …",
 * "fix them and run: …") can suggest it again with only what must change changed: every other
 * flag (--profile, --local, --page-size, --map …) stays as the user typed it, and the result is
 * quoted for a POSIX shell so it can be copied and run as it is.
 */

/** What to change in a command line. */
export interface CommandLineEdit {
  /** Options given this value (replacing every occurrence, else added at the end). */
  set?: Record<string, string>;
  /** Options removed, with their values. */
  drop?: string[];
  /** Flags (options without a value) added at the end unless already given. */
  add?: string[];
  /** The command's arguments (operands) replaced by these. */
  args?: string[];
  /** The command path replaced, e.g. ['ingest'] for a hint after `synap migrate`. */
  command?: string[];
}

type Part =
  | { kind: 'command'; tokens: [string] }
  | { kind: 'option'; option: Option | undefined; tokens: string[] }
  | { kind: 'operand'; tokens: [string] }
  | { kind: 'separator'; tokens: ['--'] };

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One word for a POSIX shell: as it is when nothing in it is special, else in single quotes. */
export function shellQuote(word: string): string {
  if (SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command and its ancestors, leaf first: options of each apply (global ones of the root). */
export function lineage(cmd: Command): Command[] {
  const out: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) out.push(c);
  return out;
}

/** The option `flag` (long or short) names for `cmd`: its own, else an ancestor's. */
export function findOption(cmd: Command, flag: string): Option | undefined {
  for (const c of lineage(cmd)) {
    const o = c.options.find((opt) => opt.long === flag || opt.short === flag);
    if (o) return o;
  }
  return undefined;
}

function takesValue(o: Option | undefined): boolean {
  return o !== undefined && (o.required || o.optional);
}

export class CommandLine {
  private constructor(
    private readonly program: string,
    private readonly parts: Part[],
  ) {}

  /**
   * Reads `args` (the words after the program name) as commander does for `leaf`: subcommand
   * names down to it, options of it and its ancestors with their values, and operands.
   */
  static parse(args: readonly string[], leaf: Command): CommandLine {
    const commands = lineage(leaf);
    const path = [...commands].reverse().slice(1);
    const parts: Part[] = [];
    let depth = 0;
    let operandsOnly = false;
    for (let i = 0; i < args.length; i++) {
      const word = args[i]!;
      if (operandsOnly) {
        parts.push({ kind: 'operand', tokens: [word] });
      } else if (word === '--') {
        operandsOnly = true;
        parts.push({ kind: 'separator', tokens: ['--'] });
      } else if (word.startsWith('--')) {
        const option = findOption(leaf, word.split('=', 1)[0]!);
        const next = args[i + 1];
        const wantsNext =
          !word.includes('=') &&
          takesValue(option) &&
          next !== undefined &&
          (option!.required || !next.startsWith('-'));
        parts.push({ kind: 'option', option, tokens: wantsNext ? [word, args[++i]!] : [word] });
      } else if (word.startsWith('-') && word.length > 1) {
        const option = findOption(leaf, word.slice(0, 2));
        const next = args[i + 1];
        const wantsNext = word.length === 2 && option?.required === true && next !== undefined;
        parts.push({ kind: 'option', option, tokens: wantsNext ? [word, args[++i]!] : [word] });
      } else if (depth < path.length && word === path[depth]!.name()) {
        depth += 1;
        parts.push({ kind: 'command', tokens: [word] });
      } else {
        parts.push({ kind: 'operand', tokens: [word] });
      }
    }
    return new CommandLine(commands.at(-1)!.name(), parts);
  }

  /** The value given to an option (its last occurrence), if any. */
  value(flag: string): string | undefined {
    let found: string | undefined;
    for (const p of this.parts) {
      if (p.kind !== 'option' || !this.is(p, flag)) continue;
      const [first, second] = p.tokens;
      found = second ?? (first!.includes('=') ? first!.slice(first!.indexOf('=') + 1) : undefined);
    }
    return found;
  }

  private is(p: Part, flag: string): boolean {
    if (p.kind !== 'option') return false;
    if (p.option) return p.option.long === flag || p.option.short === flag;
    return p.tokens[0]!.split('=', 1)[0] === flag;
  }

  /** The command line with `edit` applied, quoted for a shell. */
  with(edit: CommandLineEdit = {}): string {
    let parts = [...this.parts];
    const insertAt = (index: number, added: Part[]) => {
      const separator = parts.findIndex((p) => p.kind === 'separator');
      const end = separator === -1 ? parts.length : separator;
      const at = index === -1 || index > end ? end : index;
      parts.splice(at, 0, ...added);
    };
    for (const flag of edit.drop ?? []) parts = parts.filter((p) => !this.is(p, flag));
    if (edit.command) {
      const added: Part[] = edit.command.map((c) => ({ kind: 'command', tokens: [c] }));
      const first = parts.findIndex((p) => p.kind === 'command');
      parts = parts.filter((p) => p.kind !== 'command');
      parts.splice(first === -1 ? 0 : first, 0, ...added);
    }
    if (edit.args) {
      const added: Part[] = edit.args.map((a) => ({ kind: 'operand', tokens: [a] }));
      const first = parts.findIndex((p) => p.kind === 'operand');
      parts = parts.filter((p) => p.kind !== 'operand');
      // Operands after `--` stay after it; with none before, they go right after the command.
      const separator = parts.findIndex((p) => p.kind === 'separator');
      const lastCommand = parts.map((p) => p.kind).lastIndexOf('command');
      if (separator !== -1 && first > separator) parts.push(...added);
      else insertAt(first === -1 ? lastCommand + 1 : first, added);
    }
    for (const [flag, value] of Object.entries(edit.set ?? {})) {
      const first = parts.findIndex((p) => this.is(p, flag));
      parts = parts.filter((p) => !this.is(p, flag));
      insertAt(first, [{ kind: 'option', option: undefined, tokens: [flag, value] }]);
    }
    for (const flag of edit.add ?? []) {
      if (!parts.some((p) => this.is(p, flag))) {
        insertAt(-1, [{ kind: 'option', option: undefined, tokens: [flag] }]);
      }
    }
    return [this.program, ...parts.flatMap((p) => p.tokens)].map(shellQuote).join(' ');
  }
}
