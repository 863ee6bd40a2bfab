import type { Command } from 'commander';

/** Adds the 'completion' command to the program. */
export function register(_program: Command): void {}
