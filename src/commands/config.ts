import type { Command } from 'commander';

/** Adds the 'config' command to the program. */
export function register(_program: Command): void {}
