import type { Command } from 'commander';

/** Adds the 'emulator' command to the program. */
export function register(_program: Command): void {}
