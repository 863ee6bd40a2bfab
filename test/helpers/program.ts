import type { Command } from 'commander';
import { buildProgram } from '../../src/cli.js';
import { declared } from '../../src/commands/lazy.js';
import { Runner } from '../../src/commands/run.js';

/** Declares every command of the tree (lazy.ts declares each only when it is used). */
async function declareAll(cmd: Command): Promise<void> {
  await declared(cmd);
  for (const c of cmd.commands) await declareAll(c);
}

/** The whole program with every command declared, for tests that walk all of them. */
export async function declaredProgram(): Promise<Command> {
  const program = buildProgram(new Runner());
  await declareAll(program);
  return program;
}
