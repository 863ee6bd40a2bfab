import type { Command } from 'commander';

/** Adds the 'auth' command to the program. */
export function register(_program: Command): void {}
