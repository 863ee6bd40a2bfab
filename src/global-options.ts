import type { Command } from 'commander';

/** Options every command accepts, after env defaults (SYNAP_PROFILE, SYNAP_BASE_URL, CI, NO_COLOR) are applied. */
export interface GlobalOptions {
  profile: string;
  /** From --base-url or SYNAP_BASE_URL; undefined means "profile's, else the default". */
  baseUrl: string | undefined;
  /** True when --base-url was given on the command line (not from the environment). */
  baseUrlFlag: boolean;
  local: boolean;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  /** False when prompting is forbidden: --no-input, --json, no TTY on stdin, or CI set. */
  interactive: boolean;
  /** Colour and styling on stdout (see colorFor). */
  color: boolean;
  /** Colour and styling on stderr: progress, summaries, warnings, errors. */
  stderrColor: boolean;
  /** --max-retry-after in ms: a longer Retry-After stops the command (exit 5). */
  maxRetryAfterMs?: number | undefined;
}

/**
 * The one place that decides whether colour and styling go to a stream: never with --no-color;
 * FORCE_COLOR (other than 0/false) forces them, FORCE_COLOR=0 turns them off; NO_COLOR (any
 * non-empty value, no-color.org) and TERM=dumb turn them off; otherwise only when the stream is
 * a terminal, so pipes, files and cron logs get plain text.
 */
export function colorFor(
  stream: NodeJS.WritableStream,
  noColorFlag = false,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (noColorFlag) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return (stream as NodeJS.WriteStream).isTTY === true;
}

/** Reads the global options from the root program, wherever the action runs in the tree. */
export function globalOptions(command: Command): GlobalOptions {
  let root = command;
  while (root.parent) root = root.parent;
  const o = root.opts<{
    profile?: string;
    baseUrl?: string;
    local?: boolean;
    json?: boolean;
    quiet?: boolean;
    verbose?: boolean;
    input?: boolean;
    color?: boolean;
    maxRetryAfter?: number;
  }>();
  const env = process.env;
  const json = o.json === true;
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI !== 'false';
  return {
    profile: o.profile ?? (env.SYNAP_PROFILE || 'default'),
    baseUrl: o.baseUrl ?? (env.SYNAP_BASE_URL || undefined),
    baseUrlFlag: o.baseUrl !== undefined,
    local: o.local === true,
    json,
    quiet: o.quiet === true,
    verbose: o.verbose === true,
    interactive: o.input !== false && !json && process.stdin.isTTY === true && !ci,
    color: colorFor(process.stdout, o.color === false, env),
    stderrColor: colorFor(process.stderr, o.color === false, env),
    maxRetryAfterMs: o.maxRetryAfter,
  };
}
