import type { Command } from 'commander';

/** Adds the 'migrate' command to the program. */
export function register(_program: Command): void {}
