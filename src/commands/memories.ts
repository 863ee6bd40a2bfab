import type { Command } from 'commander';

/** Adds the 'memories' command to the program. */
export function register(_program: Command): void {}
