import type { Command } from 'commander';

/** Adds the 'export' command to the program. */
export function register(_program: Command): void {}
