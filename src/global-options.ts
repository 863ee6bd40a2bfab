import type { Command } from 'commander';

/** Options every command accepts, after env defaults (SYNAP_PROFILE, SYNAP_BASE_URL, CI, NO_COLOR) are applied. */
export interface GlobalOptions {
  profile: string;
  /** From --base-url or SYNAP_BASE_URL; undefined means "profile's, else the default". */
  baseUrl: string | undefined;
  local: boolean;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  /** False when prompting is forbidden: --no-input, --json, no TTY on stdin, or CI set. */
  interactive: boolean;
  color: boolean;
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
  }>();
  const env = process.env;
  const json = o.json === true;
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI !== 'false';
  return {
    profile: o.profile ?? (env.SYNAP_PROFILE || 'default'),
    baseUrl: o.baseUrl ?? (env.SYNAP_BASE_URL || undefined),
    local: o.local === true,
    json,
    quiet: o.quiet === true,
    verbose: o.verbose === true,
    interactive: o.input !== false && !json && process.stdin.isTTY === true && !ci,
    color: o.color !== false && env.NO_COLOR === undefined,
  };
}
