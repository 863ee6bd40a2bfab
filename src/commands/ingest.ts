import type { Command } from 'commander';

/** Adds the 'ingest' command to the program. */
export function register(_program: Command): void {}
